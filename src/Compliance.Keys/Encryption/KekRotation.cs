using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Keys.Attestation;
using Compliance.Keys.DataProtection;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.Encryption;

/// <summary>
/// Re-wraps the stored keys under the current key-encryption key, one key per statement. A row is updated only if it
/// still names the key-encryption key it was read with, so that two runs at once, or a node creating keys meanwhile,
/// never overwrite each other.
/// </summary>
internal sealed class KekRotation(IKeyEncryptionKey kek, IServiceScopeFactory scopes, TimeProvider time, IAuditActor actor) : IKekRotation
{
    public async Task<KeyCustodyCensus> TakeCensusAsync(CancellationToken cancellationToken)
    {
        await kek.EnsureReadyAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var census = await WrappedKeyCensus.TakeAsync(db, cancellationToken);
        var signing = await db.Set<SigningKey>().AsNoTracking()
            .OrderBy(k => k.Algorithm).ThenBy(k => k.Generation)
            .Select(k => new StoredSigningKey(k.KeyId, k.Algorithm, k.Generation, k.ActivatesAt, k.KekId))
            .ToListAsync(cancellationToken);
        return new KeyCustodyCensus(kek.KeyId, kek.Custody, signing, census.ByKek);
    }

    public async Task<KekRotationResult> RotateAsync(KekRotationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.KeysPerSecond is <= 0 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The pace is more than 0 and at most 10000 keys per second.");
        }

        await kek.EnsureReadyAsync(cancellationToken);
        var target = kek.KeyId;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var census = await WrappedKeyCensus.TakeAsync(db, cancellationToken);
        if (census.Unreadable(kek).Count > 0)
        {
            throw new KeyCustodyException(census.UnreadableProblem(kek));
        }

        var from = census.KekIds.Where(id => id != target).ToList();
        var pace = new Pace(options.KeysPerSecond, time);
        var rewrapped = 0;

        foreach (var key in await db.Set<SigningKey>().AsNoTracking().Where(k => k.KekId != target).ToListAsync(cancellationToken))
        {
            await pace.WaitAsync(cancellationToken);
            var wrapped = await RewrapAsync(new WrappedKey(key.KekId, key.KekAlgorithm, key.WrappedPrivateKey), cancellationToken);
            rewrapped += await db.Set<SigningKey>().Where(k => k.KeyId == key.KeyId && k.KekId == key.KekId).ExecuteUpdateAsync(set => set
                .SetProperty(k => k.KekId, wrapped.KeyId)
                .SetProperty(k => k.KekAlgorithm, wrapped.Algorithm)
                .SetProperty(k => k.WrappedPrivateKey, wrapped.Ciphertext), cancellationToken);
            options.Progress?.Invoke($"Re-wrapped the {key.Algorithm} signing key {key.KeyId}.");
        }

        foreach (var secret in await db.Set<KeyedHashSecret>().AsNoTracking().Where(k => k.KekId != target).ToListAsync(cancellationToken))
        {
            await pace.WaitAsync(cancellationToken);
            var wrapped = await RewrapAsync(new WrappedKey(secret.KekId, secret.KekAlgorithm, secret.WrappedSecret), cancellationToken);
            rewrapped += await db.Set<KeyedHashSecret>().Where(k => k.Purpose == secret.Purpose && k.KekId == secret.KekId).ExecuteUpdateAsync(set => set
                .SetProperty(k => k.KekId, wrapped.KeyId)
                .SetProperty(k => k.KekAlgorithm, wrapped.Algorithm)
                .SetProperty(k => k.WrappedSecret, wrapped.Ciphertext), cancellationToken);
            options.Progress?.Invoke($"Re-wrapped the keyed-hash secret of purpose {secret.Purpose}.");
        }

        // Only the current attestation key (and one retiring at this moment) still has a private key to re-wrap.
        foreach (var key in await db.Set<AttestationKeyRecord>().AsNoTracking().Where(k => k.KekId != null && k.KekId != target).ToListAsync(cancellationToken))
        {
            await pace.WaitAsync(cancellationToken);
            var wrapped = await RewrapAsync(new WrappedKey(key.KekId!, key.KekAlgorithm!, key.WrappedPrivateKey!), cancellationToken);
            rewrapped += await db.Set<AttestationKeyRecord>().Where(k => k.KeyId == key.KeyId && k.KekId == key.KekId).ExecuteUpdateAsync(set => set
                .SetProperty(k => k.KekId, wrapped.KeyId)
                .SetProperty(k => k.KekAlgorithm, wrapped.Algorithm)
                .SetProperty(k => k.WrappedPrivateKey, wrapped.Ciphertext), cancellationToken);
            options.Progress?.Invoke($"Re-wrapped the attestation key {key.KeyId}.");
        }

        foreach (var key in await db.Set<DataProtectionKey>().AsNoTracking().ToListAsync(cancellationToken))
        {
            var element = XElement.Parse(key.Xml);
            var stale = element.Descendants(KekXml.ElementName).Where(w => (string?)w.Attribute("keyId") != target).ToList();
            if (stale.Count == 0)
            {
                continue;
            }

            await pace.WaitAsync(cancellationToken);
            foreach (var wrappedElement in stale)
            {
                // The secret stays sealed to its key (boundTo): only the wrapping changes.
                var wrapped = await RewrapAsync(KekXml.Read(wrappedElement), cancellationToken);
                wrappedElement.ReplaceWith(KekXml.Element(wrapped, (string?)wrappedElement.Attribute(KekXml.BoundToAttribute)));
            }

            var xml = element.ToString(SaveOptions.DisableFormatting);
            rewrapped += await db.Set<DataProtectionKey>().Where(k => k.Id == key.Id && k.Xml == key.Xml)
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.Xml, xml), cancellationToken);
            options.Progress?.Invoke($"Re-wrapped the Data Protection key {(string?)element.Attribute("id")}.");
        }

        var after = await WrappedKeyCensus.TakeAsync(db, cancellationToken);
        var remaining = after.ByKek.Where(k => k.Key != target).Sum(k => k.Value);
        await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(AuditEventTypes.KeyEncryptionKeyRotated, actor.Name, null,
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["kek_id"] = target, ["from_kek_ids"] = from, ["rewrapped"] = rewrapped, ["remaining"] = remaining,
            }), cancellationToken);
        return new KekRotationResult(target, from, rewrapped, remaining);
    }

    private async Task<WrappedKey> RewrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        var sealedBytes = await kek.UnwrapAsync(wrapped, cancellationToken);
        try
        {
            return await kek.WrapAsync(sealedBytes, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sealedBytes);
        }
    }

    /// <summary>Spaces the keys evenly at the requested pace.</summary>
    private sealed class Pace(double? keysPerSecond, TimeProvider time)
    {
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            if (keysPerSecond is not { } rate)
            {
                return;
            }

            var now = time.GetUtcNow();
            if (_next > now)
            {
                await Task.Delay(_next - now, time, cancellationToken);
            }

            _next = (_next > now ? _next : now) + TimeSpan.FromSeconds(1 / rate);
        }
    }
}
