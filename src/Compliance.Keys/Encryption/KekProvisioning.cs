using Compliance.Data.Model;
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
        var local = kek as LocalFileKeyEncryptionKey
            ?? throw new KeyCustodyException($"The key-encryption key is {kek.GetType().Name}, not a local file: it is created in its own custody.");
        if (local.FileExists)
        {
            throw new KeyCustodyException(
                $"Keys:LocalKekPath: a key-encryption key already exists at '{local.FilePath}'; it is never replaced, since the keys in the store depend on it.");
        }

        await RefuseIfStoreHoldsKeysAsync(local, cancellationToken);
        return new ProvisionedKek(local.Create(), local.FilePath);
    }

    /// <summary>At start-up: nothing to do when the key file exists; otherwise creates it if allowed, or refuses.</summary>
    public async Task EnsureAtStartAsync(bool mayCreate, CancellationToken cancellationToken)
    {
        if (kek is not LocalFileKeyEncryptionKey local || local.FileExists)
        {
            return;
        }

        await RefuseIfStoreHoldsKeysAsync(local, cancellationToken);
        if (!mayCreate)
        {
            throw new KeyCustodyException(
                $"Keys:LocalKekPath: there is no key-encryption key at '{local.FilePath}', and outside the embedded default it is created only on purpose: "
                + "run `compliance keys init` (then give every node a copy of the file), or set Keys:CreateKekIfMissing=true.");
        }

        local.Create();
    }

    /// <summary>The embedded default: the Development environment, or SQLite in the default data folder.</summary>
    public static bool MayCreateAtStart(KeysOptions keys, StorageOptions storage, IHostEnvironment environment) =>
        keys.CreateKekIfMissing
        ?? (environment.IsDevelopment()
            || (storage.ParsedProvider == DatabaseProvider.Sqlite && string.IsNullOrWhiteSpace(storage.DataDirectory)));

    private async Task RefuseIfStoreHoldsKeysAsync(LocalFileKeyEncryptionKey local, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var census = await WrappedKeyCensus.TakeAsync(scope.ServiceProvider.GetRequiredService<ComplianceDbContext>(), cancellationToken);
        if (census.Count > 0)
        {
            throw new KeyCustodyException(census.MissingKekProblem(local.FilePath));
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
