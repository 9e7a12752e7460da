using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Keys.Hashing;
using Compliance.Keys.Pkcs11;
using Compliance.Data.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Encryption;

/// <summary>
/// Decides when the local key-encryption key may be created: on purpose (<c>compliance keys init</c>), or at start-up
/// on the embedded default or with <c>Keys:CreateKekIfMissing=true</c>; never while the store holds wrapped keys.
/// </summary>
internal sealed class KekProvisioning(IKeyEncryptionKey kek, IServiceScopeFactory scopes) : IKekProvisioning
{
    public async Task<ProvisionedKek> CreateAsync(CancellationToken cancellationToken)
    {
        if (Current is Pkcs11KeyEncryptionKey token)
        {
            // A new key on the token: allowed over an empty store, or as the new key of a rotation.
            await RefuseIfStoreHoldsKeysAsync(token.Description, cancellationToken);
            return new ProvisionedKek(await token.CreateKeyAsync(cancellationToken), token.Description, token.Custody);
        }

        var local = Current as LocalFileKeyEncryptionKey
            ?? throw new KeyCustodyException($"The key-encryption key is kept by {Current.Custody}: create it there (for Azure Key Vault, an RSA key with wrapKey and unwrapKey), then name it in the settings.");
        if (local.FileExists)
        {
            throw new KeyCustodyException(
                $"Keys:LocalKekPath: a key-encryption key already exists at '{local.FilePath}'; it is never replaced, since the keys in the store depend on it.");
        }

        await RefuseIfStoreHoldsKeysAsync(local, cancellationToken);
        return new ProvisionedKek(local.Create(), local.FilePath);
    }

    /// <summary>
    /// At start-up: makes sure the local key-encryption key exists, creating it only if allowed; then that every
    /// configured key-encryption key is usable, and that this node can unwrap every key in the store.
    /// </summary>
    public async Task EnsureAtStartAsync(bool mayCreate, CancellationToken cancellationToken)
    {
        if (Current is LocalFileKeyEncryptionKey { FileExists: false } local)
        {
            await RefuseIfStoreHoldsKeysAsync(local, cancellationToken);
            if (!mayCreate)
            {
                throw new KeyCustodyException(
                    $"Keys:LocalKekPath: there is no key-encryption key at '{local.FilePath}', and outside the embedded default it is created only on purpose: "
                    + "run `compliance keys init` (then give every node a copy of the file), or set Keys:CreateKekIfMissing=true.");
            }

            local.Create();
        }

        await kek.EnsureReadyAsync(cancellationToken);
        var census = await TakeCensusAsync(cancellationToken);
        if (census.Unreadable(kek).Count > 0)
        {
            throw new KeyCustodyException(census.UnreadableProblem(kek));
        }

        await using var scope = scopes.CreateAsyncScope();
        await KeyedHashSecretsCheck.RunAsync(scope.ServiceProvider, cancellationToken);
        await RecordInUseAsync(scope.ServiceProvider, cancellationToken);
    }

    /// <summary>Audits the key-encryption key this node starts with, when it differs from the last one recorded.</summary>
    private async Task RecordInUseAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string> { ["custody"] = Current.Custody, ["kek_id"] = Current.KeyId };
        if (Current is IKekWithRegion { Region: { } region })
        {
            details["region"] = region;
        }

        if (Previous is not null)
        {
            details["previous_kek_id"] = Previous.KeyId;
        }

        var json = JsonSerializer.Serialize(details);
        var trail = services.GetRequiredService<IAuditTrail>();
        if ((await trail.FindLatestAsync(AuditEventTypes.KeyEncryptionKeyInUse, cancellationToken))?.Details != json)
        {
            await trail.RecordAsync(AuditEventTypes.KeyEncryptionKeyInUse, services.GetRequiredService<IAuditActor>().Name, null, json, cancellationToken);
        }
    }

    /// <summary>The embedded default: the Development environment, or SQLite in the default data folder.</summary>
    public static bool MayCreateAtStart(KeysOptions keys, StorageOptions storage, IHostEnvironment environment) =>
        keys.CreateKekIfMissing
        ?? (environment.IsDevelopment()
            || (storage.ParsedProvider == DatabaseProvider.Sqlite && string.IsNullOrWhiteSpace(storage.DataDirectory)));

    /// <summary>The key that wraps: the configured one, or the current one of a rotation.</summary>
    private IKeyEncryptionKey Current => kek is KeyEncryptionKeys keys ? keys.Current : kek;

    /// <summary>The previous key of a rotation, if any.</summary>
    private IKeyEncryptionKey? Previous => (kek as KeyEncryptionKeys)?.Previous;

    private async Task<WrappedKeyCensus> TakeCensusAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await WrappedKeyCensus.TakeAsync(scope.ServiceProvider.GetRequiredService<ComplianceDbContext>(), cancellationToken);
    }

    /// <summary>
    /// A new key could read none of the stored keys: it is created only over an empty store, or during a rotation
    /// whose previous key (<c>Keys:Previous</c>) reads every stored key.
    /// </summary>
    private async Task RefuseIfStoreHoldsKeysAsync(LocalFileKeyEncryptionKey local, CancellationToken cancellationToken)
    {
        var census = await TakeCensusAsync(cancellationToken);
        if (census.Count > 0 && (Previous is null || census.Unreadable(Previous).Count > 0))
        {
            throw new KeyCustodyException(census.MissingKekProblem(local.Setting, local.FilePath));
        }
    }

    private async Task RefuseIfStoreHoldsKeysAsync(string description, CancellationToken cancellationToken)
    {
        var census = await TakeCensusAsync(cancellationToken);
        if (census.Count > 0 && (Previous is null || census.Unreadable(Previous).Count > 0))
        {
            throw new KeyCustodyException(
                $"Keys: the compliance store holds {census.Count} key(s) wrapped by {string.Join(", ", census.KekIds.Select(id => $"'{id}'"))}; a new key-encryption key ({description}) "
                + "is created only over an empty store, or during a rotation with the key that wrapped them set as Keys:Previous.");
        }
    }
}

/// <summary>
/// Before anything wraps or unwraps a key (after the schema gate, before the signing keys are ensured): makes sure
/// the local key-encryption key exists, creating it only where allowed, so that a start never silently makes a new one.
/// </summary>
internal sealed class KekStartupCheck(
    KekProvisioning provisioning,
    IOptions<KeysOptions> keys,
    IOptions<StorageOptions> storage,
    IServiceProvider services) : IHostedLifecycleService
{
    // Resolved when the host starts: a provider built without a host (tests, tools) may list this service unstarted.
    public Task StartingAsync(CancellationToken cancellationToken) =>
        provisioning.EnsureAtStartAsync(
            KekProvisioning.MayCreateAtStart(keys.Value, storage.Value, services.GetRequiredService<IHostEnvironment>()), cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
