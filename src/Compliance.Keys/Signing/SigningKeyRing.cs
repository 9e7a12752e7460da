using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Keys.Encryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Signing;

/// <summary>
/// The signing key ring. The store is the truth; each node keeps a snapshot of the chains with the private keys that
/// may sign, rebuilt every minute (so keys created or purged by other nodes are seen), and picks the current key by
/// the clock on every call, so a scheduled switch needs no reload. Signing is served from memory.
/// </summary>
internal sealed class SigningKeyRing(
    IServiceScopeFactory scopes,
    IKeyEncryptionKey kek,
    IOptions<KeysOptions> options,
    TimeProvider time,
    IAuditActor actor,
    ILogger<SigningKeyRing> logger) : ISigningKeys, IDisposable
{
    /// <summary>
    /// How long a snapshot is served before the store is read again: the delay after which a key revoked on another
    /// node stops signing and validating here. A refresh reads a handful of rows and unwraps only keys it does not hold.
    /// </summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>After a failed refresh, the previous snapshot is served this long before the next attempt.</summary>
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    private const int MaxRotationAttempts = 5;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly SemaphoreSlim _rotation = new(1, 1);
    private readonly Lock _disposalGate = new();
    private List<AsymmetricAlgorithm> _retiring = [];
    private Snapshot? _snapshot;

    public ValueTask<SigningCredentials> GetSigningCredentialsAsync(string algorithm, CancellationToken cancellationToken)
    {
        algorithm = SigningAlgorithms.Require(algorithm, nameof(algorithm));

        // The hot path: a fresh snapshot, the current key found by the clock, no allocation, no await.
        var snapshot = Volatile.Read(ref _snapshot);
        var now = time.GetUtcNow();
        if (snapshot is not null && now < snapshot.RefreshAt && snapshot.Current(algorithm, now)?.Signing is { } credentials)
        {
            return ValueTask.FromResult(credentials);
        }

        return SlowAsync(algorithm, cancellationToken);

        async ValueTask<SigningCredentials> SlowAsync(string algorithm, CancellationToken cancellationToken)
        {
            var snapshot = await GetSnapshotAsync(cancellationToken);
            var current = snapshot.Current(algorithm, time.GetUtcNow());
            if (current is null || (current.Signing is null && current.Problem is null))
            {
                // No key yet (a store no node has rotated), or a key whose private half this snapshot did not keep.
                await RotateAsync(cancellationToken);
                snapshot = await GetSnapshotAsync(cancellationToken);
                current = snapshot.Current(algorithm, time.GetUtcNow());
            }

            return current switch
            {
                { Signing: { } signing } => signing,
                { Problem: { } problem } => throw new KeyCustodyException(
                    $"The current {algorithm} signing key {current.KeyId} is not usable on this node: {problem}"),
                _ => throw new KeyCustodyException($"No {algorithm} signing key is available."),
            };
        }
    }

    public async ValueTask<IReadOnlyList<JsonWebKey>> GetPublishedKeysAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetEnsuredSnapshotAsync(cancellationToken);
        return [.. snapshot.Published(time.GetUtcNow(), options.Value).Select(k => k.Public!.ToJsonWebKey(k.Algorithm))];
    }

    public async ValueTask<IReadOnlyList<SecurityKey>> GetValidationKeysAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetEnsuredSnapshotAsync(cancellationToken);
        return [.. snapshot.Published(time.GetUtcNow(), options.Value).Select(k => k.ValidationKey!)];
    }

    public async Task RotateAsync(CancellationToken cancellationToken)
    {
        // One rotation per node at a time; across nodes, the unique (algorithm, generation) index decides.
        await _rotation.WaitAsync(cancellationToken);
        try
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
                var trail = scope.ServiceProvider.GetRequiredService<IAuditTrail>();
                foreach (var algorithm in SigningAlgorithms.All)
                {
                    await RotateAsync(db, trail, algorithm, cancellationToken);
                }
            }

            await RefreshAsync(force: true, cancellationToken);
        }
        finally
        {
            _rotation.Release();
        }
    }

    public async Task<SigningKeyRevocation> RevokeAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        await _rotation.WaitAsync(cancellationToken);
        try
        {
            SigningKeyRevocation? revocation = null;
            for (var attempt = 0; attempt < MaxRotationAttempts && revocation is null; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                revocation = await TryRevokeAsync(scope.ServiceProvider, keyId, cancellationToken);
            }

            await RefreshAsync(force: true, cancellationToken);
            return revocation ?? throw new KeyCustodyException($"Could not revoke signing key {keyId} after {MaxRotationAttempts} attempts.");
        }
        finally
        {
            _rotation.Release();
        }
    }

    /// <summary>One attempt, in one transaction; null when another node added a generation at the same moment.</summary>
    private async Task<SigningKeyRevocation?> TryRevokeAsync(IServiceProvider services, string keyId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComplianceDbContext>();
        var revoked = await db.Set<SigningKey>().AsNoTracking().SingleOrDefaultAsync(k => k.KeyId == keyId, cancellationToken)
            ?? throw new KeyCustodyException(
                $"No signing key with kid '{WrappedKeyChecks.Printable(keyId)}' is in the store: it was never ours, was already revoked, or was purged after retirement.");
        var chain = await db.Set<SigningKey>().AsNoTracking()
            .Where(k => k.Algorithm == revoked.Algorithm)
            .OrderBy(k => k.Generation)
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var wasSigning = chain[SigningKeySchedule.CurrentIndex(chain, now)].KeyId == keyId;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.Set<SigningKey>().Where(k => k.KeyId == keyId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            // Another node revoked it between our read and our delete: only the node whose delete took effect may
            // add a replacement and write the audit row.
            await transaction.RollbackAsync(cancellationToken);
            throw new KeyCustodyException(
                $"Signing key {WrappedKeyChecks.Printable(keyId)} was revoked by another node at the same moment.");
        }

        SigningKey? replacement = null;
        if (wasSigning)
        {
            // The compromised key must stop signing now, not at its successor's scheduled activation: a new
            // generation that signs at once. Partners that cached the JWKS fetch it again on an unknown kid.
            var start = SigningKeySchedule.TruncateToSeconds(now);
            replacement = await CreateAsync(revoked.Algorithm, chain[^1].Generation + 1, start, start, cancellationToken);
            db.Add(replacement);
        }

        var details = new Dictionary<string, object>
        {
            ["algorithm"] = revoked.Algorithm, ["kid"] = revoked.KeyId, ["generation"] = revoked.Generation,
        };
        if (replacement is not null)
        {
            details["replaced_by"] = replacement.KeyId;
        }

        services.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.SigningKeyRevoked, actor.Name, null, JsonSerializer.Serialize(details));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (StoreConflicts.IsUniqueViolation(e))
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        KeysLog.SigningKeyRevoked(logger, revoked.Algorithm, revoked.KeyId, replacement?.KeyId);
        return new SigningKeyRevocation(revoked.KeyId, revoked.Algorithm, wasSigning, replacement?.KeyId);
    }

    public void Dispose()
    {
        var snapshot = Interlocked.Exchange(ref _snapshot, null);
        foreach (var key in snapshot?.Keys ?? [])
        {
            key.PrivateKey?.Dispose();
        }

        lock (_disposalGate)
        {
            _retiring.ForEach(k => k.Dispose());
            _retiring = [];
        }

        _refresh.Dispose();
        _rotation.Dispose();
    }

    private async Task RotateAsync(ComplianceDbContext db, IAuditTrail trail, string algorithm, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxRotationAttempts; attempt++)
        {
            var chain = await db.Set<SigningKey>().AsNoTracking()
                .Where(k => k.Algorithm == algorithm)
                .OrderBy(k => k.Generation)
                .ToListAsync(cancellationToken);
            var now = time.GetUtcNow();
            var plan = SigningKeySchedule.Plan(chain, now, options.Value);
            if (plan.Purge.Count > 0)
            {
                var purged = chain.Where(k => plan.Purge.Contains(k.Generation)).Select(k => k.KeyId).ToList();
                var count = await db.Set<SigningKey>()
                    .Where(k => k.Algorithm == algorithm && plan.Purge.Contains(k.Generation))
                    .ExecuteDeleteAsync(cancellationToken);
                if (count > 0)
                {
                    KeysLog.SigningKeysPurged(logger, count, algorithm, purged);

                    // Only the node whose delete took effect records it. Key ids are public thumbprints.
                    await trail.RecordAsync(AuditEventTypes.SigningKeysPurged, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["algorithm"] = algorithm, ["kids"] = purged, ["count"] = count,
                    }), cancellationToken);
                    db.ChangeTracker.Clear();
                }
            }

            if (plan.CreateGeneration is not { } generation)
            {
                return;
            }

            var key = await CreateAsync(algorithm, generation, plan.CreateActivatesAt, SigningKeySchedule.TruncateToSeconds(now), cancellationToken);
            db.Add(key);

            // Saved with the key, in one transaction: a node that loses the race records nothing.
            trail.Append(AuditEventTypes.SigningKeyCreated, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["algorithm"] = algorithm,
                ["kid"] = key.KeyId,
                ["generation"] = generation,
                ["activates_at"] = key.ActivatesAt.ToUnixTimeSeconds(),
            }));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                KeysLog.SigningKeyCreated(logger, algorithm, key.KeyId, generation, key.ActivatesAt);
            }
            catch (DbUpdateException e) when (StoreConflicts.IsUniqueViolation(e))
            {
                // Another node added this generation first: forget ours and read theirs.
                KeysLog.SigningKeyCreatedElsewhere(logger, algorithm, generation);
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }

        throw new KeyCustodyException($"Could not settle the {algorithm} signing keys after {MaxRotationAttempts} attempts.");
    }

    private async Task<SigningKey> CreateAsync(
        string algorithm, int generation, DateTimeOffset activatesAt, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        byte[] pkcs8;
        PublicJwk publicJwk;
        if (algorithm == SigningAlgorithms.ES256)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            pkcs8 = ecdsa.ExportPkcs8PrivateKey();
            publicJwk = PublicJwk.FromEcdsa(ecdsa);
        }
        else
        {
            using var rsa = RSA.Create(SigningAlgorithms.RsaKeySizeBits);
            pkcs8 = rsa.ExportPkcs8PrivateKey();
            publicJwk = PublicJwk.FromRsa(rsa);
        }

        var sealedKey = KeyEnvelope.Seal(Label(algorithm, generation, activatesAt), pkcs8);
        try
        {
            var wrapped = await kek.WrapAsync(sealedKey, cancellationToken);
            return new SigningKey
            {
                KeyId = publicJwk.Thumbprint,
                Algorithm = algorithm,
                Generation = generation,
                CreatedAt = createdAt,
                ActivatesAt = activatesAt,
                KekId = wrapped.KeyId,
                KekAlgorithm = wrapped.Algorithm,
                WrappedPrivateKey = wrapped.Ciphertext,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            CryptographicOperations.ZeroMemory(sealedKey);
        }
    }

    /// <summary>What a key's private half is sealed to: a wrapped key moved to another row, or a row whose schedule was edited, fails to open.</summary>
    internal static string Label(string algorithm, int generation, DateTimeOffset activatesAt) =>
        string.Create(CultureInfo.InvariantCulture, $"compliance-signing-key|{algorithm}|{generation}|{activatesAt.ToUnixTimeSeconds()}");

    private async Task<Snapshot> GetEnsuredSnapshotAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetSnapshotAsync(cancellationToken);
        if (SigningAlgorithms.All.Any(a => snapshot.Current(a, time.GetUtcNow()) is null))
        {
            await RotateAsync(cancellationToken);
            snapshot = await GetSnapshotAsync(cancellationToken);
        }

        return snapshot;
    }

    private async ValueTask<Snapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        return snapshot is not null && time.GetUtcNow() < snapshot.RefreshAt
            ? snapshot
            : await RefreshAsync(force: false, cancellationToken);
    }

    private async Task<Snapshot> RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        var previous = Volatile.Read(ref _snapshot);
        if (!force && previous is not null)
        {
            // Someone else is already reading the store: serve the previous snapshot rather than queue behind it.
            if (!await _refresh.WaitAsync(TimeSpan.Zero, cancellationToken))
            {
                return previous;
            }
        }
        else
        {
            await _refresh.WaitAsync(cancellationToken);
        }

        try
        {
            previous = Volatile.Read(ref _snapshot);
            if (!force && previous is not null && time.GetUtcNow() < previous.RefreshAt)
            {
                return previous;
            }

            Snapshot next;
            try
            {
                next = await LoadAsync(previous, cancellationToken);
            }
            catch (Exception e) when (previous is not null && !force && e is not OperationCanceledException)
            {
                // Keep signing with the keys already held; the schedule still moves with the clock.
                KeysLog.RingRefreshFailed(logger, e);
                next = previous.RetryAt(time.GetUtcNow() + RetryInterval);
            }

            Volatile.Write(ref _snapshot, next);
            return next;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<Snapshot> LoadAsync(Snapshot? previous, CancellationToken cancellationToken)
    {
        List<SigningKey> rows;
        await using (var scope = scopes.CreateAsyncScope())
        {
            // The whole table is a few rows per algorithm: current, next and the retired keys still published.
            rows = await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<SigningKey>().AsNoTracking()
                .ToListAsync(cancellationToken);
        }

        var now = time.GetUtcNow();
        var held = previous?.Keys.ToDictionary(k => k.KeyId, StringComparer.Ordinal) ?? [];
        var chains = new Dictionary<string, IReadOnlyList<RingKey>>(StringComparer.Ordinal);
        var dropped = new List<AsymmetricAlgorithm>();
        foreach (var algorithm in SigningAlgorithms.All)
        {
            var chain = rows.Where(r => r.Algorithm == algorithm).OrderBy(r => r.Generation).ToList();
            var current = SigningKeySchedule.CurrentIndex(chain, now);
            var keys = new List<RingKey>();
            for (var i = 0; i < chain.Count; i++)
            {
                if (!SigningKeySchedule.IsPublished(chain, i, now, options.Value))
                {
                    continue;
                }

                var mayStillSign = i >= current;
                if (held.Remove(chain[i].KeyId, out var known) && known.Matches(chain[i]) && (known.Signing is not null || !mayStillSign))
                {
                    if (mayStillSign || known.PrivateKey is null)
                    {
                        keys.Add(known);
                    }
                    else
                    {
                        keys.Add(known.WithoutPrivateKey());
                        dropped.Add(known.PrivateKey);
                    }

                    continue;
                }

                if (known?.PrivateKey is { } replaced)
                {
                    dropped.Add(replaced);
                }

                keys.Add(await OpenAsync(chain[i], mayStillSign, known, cancellationToken));
            }

            chains[algorithm] = keys;
        }

        // Keys purged from the store, or no longer published.
        dropped.AddRange(held.Values.Select(k => k.PrivateKey).OfType<AsymmetricAlgorithm>());
        RetireLater(dropped);
        return new Snapshot(chains, now + RefreshInterval);
    }

    private async Task<RingKey> OpenAsync(SigningKey row, bool mayStillSign, RingKey? known, CancellationToken cancellationToken)
    {
        byte[]? pkcs8 = null;
        try
        {
            var sealedKey = await kek.UnwrapAsync(new WrappedKey(row.KekId, row.KekAlgorithm, row.WrappedPrivateKey), cancellationToken);
            pkcs8 = KeyEnvelope.Open(sealedKey, Label(row.Algorithm, row.Generation, row.ActivatesAt), "signing key");
            return RingKey.FromPrivateKey(row, pkcs8, mayStillSign);
        }
        catch (Exception e) when (e is KeyCustodyException or CryptographicException)
        {
            // A cryptographic library's message says what failed, never what the key was; ours never carry key bytes.
            var problem = e is KeyCustodyException ? e.Message : "its private key cannot be read.";
            if (known?.Problem is null)
            {
                KeysLog.SigningKeyUnusable(logger, row.Algorithm, row.KeyId, problem);
            }

            return RingKey.Unusable(row, problem);
        }
        finally
        {
            if (pkcs8 is not null)
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }
    }

    /// <summary>
    /// Disposes private keys that left the snapshot one refresh later, not at once: a caller may have fetched the
    /// credentials just before and still be signing with them.
    /// </summary>
    private void RetireLater(List<AsymmetricAlgorithm> dropped)
    {
        List<AsymmetricAlgorithm> due;
        lock (_disposalGate)
        {
            due = _retiring;
            _retiring = dropped;
        }

        due.ForEach(k => k.Dispose());
    }

    /// <summary>One node's view of the chains, ordered by generation, holding only published keys.</summary>
    private sealed class Snapshot(IReadOnlyDictionary<string, IReadOnlyList<RingKey>> chains, DateTimeOffset refreshAt)
    {
        public DateTimeOffset RefreshAt { get; } = refreshAt;

        public IEnumerable<RingKey> Keys => chains.Values.SelectMany(c => c);

        public Snapshot RetryAt(DateTimeOffset retryAt) => new(chains, retryAt);

        public RingKey? Current(string algorithm, DateTimeOffset now) =>
            chains.TryGetValue(algorithm, out var chain) && chain.Count > 0 ? chain[SigningKeySchedule.CurrentIndex(chain, now)] : null;

        public IEnumerable<RingKey> Published(DateTimeOffset now, KeysOptions options)
        {
            foreach (var chain in chains.Values)
            {
                for (var i = 0; i < chain.Count; i++)
                {
                    if (chain[i].Problem is null && SigningKeySchedule.IsPublished(chain, i, now, options))
                    {
                        yield return chain[i];
                    }
                }
            }
        }
    }
}
