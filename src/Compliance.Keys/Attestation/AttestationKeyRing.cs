using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Keys.Encryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Attestation;

/// <summary>
/// The attestation keys. The store is the truth; a node holds the current private key in memory and reads the store
/// again at most every <see cref="RefreshInterval"/>, so a key rotated on another node stops signing here within it.
/// The partial unique index on the current key settles two nodes creating or rotating at once.
/// </summary>
internal sealed class AttestationKeyRing(
    IServiceScopeFactory scopes,
    IKeyEncryptionKey kek,
    IOptions<KeysOptions> options,
    TimeProvider time,
    IAuditActor actor,
    ILogger<AttestationKeyRing> logger) : IAttestationKeys, IDisposable
{
    /// <summary>How long a node signs with the key it read before it reads the store again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>The largest payload signed: its JWS stays under <see cref="AttestationVerifier.MaxJwsLength"/>.</summary>
    public const int MaxPayloadBytes = 512 * 1024;

    private const int MaxAttempts = 5;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _disposalGate = new();
    private List<ECDsa> _retiring = [];
    private Current? _current;

    public async Task<AttestationSignature> SignAsync(string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!AttestationVerifier.IsType(type))
        {
            throw new ArgumentException("An attestation type is 1 to 64 characters among letters, digits and + - . _ /.", nameof(type));
        }

        if (payload.Length > MaxPayloadBytes)
        {
            // Base64url grows it by a third: a larger payload would make a JWS that the verifier refuses as too long.
            throw new ArgumentOutOfRangeException(nameof(payload), $"An attested payload is at most {MaxPayloadBytes} bytes.");
        }

        var current = Volatile.Read(ref _current);
        if (current is null || !current.Fresh(time.GetUtcNow(), RotationDays))
        {
            current = await LoadAsync(cancellationToken);
        }

        // The header is built by hand: its three members are checked above (type) or base64url (kid), nothing to escape.
        var header = $$"""{"alg":"{{AttestationVerifier.Algorithm}}","kid":"{{current.KeyId}}","typ":"{{type}}"}""";
        var signingInput = string.Concat(AttestationVerifier.Encode(Encoding.UTF8.GetBytes(header)), ".", AttestationVerifier.Encode(payload.Span));
        var signature = current.PrivateKey.SignData(
            Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new AttestationSignature(current.KeyId, string.Concat(signingInput, ".", AttestationVerifier.Encode(signature)));
    }

    public async Task<IReadOnlyList<AttestationKey>> AllAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<AttestationKeyRecord>().AsNoTracking()
            .ToListAsync(cancellationToken);

        // Ordered in memory by time, then creation: a handful of rows (one per rotation, at most one a month).
        return [.. rows.OrderBy(r => r.ValidFrom).ThenBy(r => r.CreatedAt).Select(ToKey)];
    }

    public async Task<AttestationKey> RotateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                var current = await CurrentRowAsync(scope.ServiceProvider, cancellationToken);
                if (current is not null && time.GetUtcNow() - current.CreatedAt < RefreshInterval)
                {
                    // Made by another rotation a moment ago (two operators or nodes at once): one new key, not two.
                    Invalidate();
                    return ToKey(current);
                }

                var made = current is null
                    ? await TryCreateFirstAsync(scope.ServiceProvider, cancellationToken)
                    : await TryRotateAsync(scope.ServiceProvider, current, "operator", cancellationToken);
                if (made is not null || current is not null)
                {
                    // Made here, or (when another node rotated the same key at this moment) made there: one new key either way.
                    await using var reading = scopes.CreateAsyncScope();
                    Invalidate();
                    return ToKey(made ?? await CurrentRowAsync(reading.ServiceProvider, cancellationToken)
                        ?? throw new KeyCustodyException("The attestation key was rotated, but no current key is in the store."));
                }
            }

            throw new KeyCustodyException($"Could not rotate the attestation key after {MaxAttempts} attempts.");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<AttestationKey> MarkCompromisedAsync(string keyId, DateTimeOffset from, CancellationToken cancellationToken)
    {
        if (!AttestationVerifier.IsKeyId(keyId))
        {
            throw new KeyCustodyException($"No attestation key with kid '{WrappedKeyChecks.Printable(keyId)}' is in the store.");
        }

        var now = time.GetUtcNow();
        if (from > now)
        {
            throw new ArgumentOutOfRangeException(nameof(from), $"The compromise time {AttestationVerifier.Format(from)} is in the future; a key can only be marked compromised from a past time.");
        }

        // Whole seconds, rounded down: the mark voids a little more, never less, and reads back the same on both stores.
        from = TruncateToSecond(from);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var row = await db.Set<AttestationKeyRecord>().AsNoTracking().SingleOrDefaultAsync(k => k.KeyId == keyId, cancellationToken)
                ?? throw new KeyCustodyException($"No attestation key with kid '{keyId}' is in the store.");
            if (from < row.ValidFrom)
            {
                throw new ArgumentOutOfRangeException(nameof(from),
                    $"The compromise time {AttestationVerifier.Format(from)} is before the key {keyId} was valid ({AttestationVerifier.Format(row.ValidFrom)}).");
            }

            if (row.RetiredAt is null)
            {
                // A compromised key must not sign one more receipt: replace it first (another node may do it at once).
                await using var rotating = scopes.CreateAsyncScope();
                await TryRotateAsync(rotating.ServiceProvider, row, "compromise", cancellationToken);
                Invalidate();
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var updated = await db.Set<AttestationKeyRecord>()
                .Where(k => k.KeyId == keyId && (k.CompromisedFrom == null || k.CompromisedFrom > from))
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.CompromisedFrom, from), cancellationToken);
            if (updated == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                var marked = await db.Set<AttestationKeyRecord>().AsNoTracking().SingleAsync(k => k.KeyId == keyId, cancellationToken);
                return marked.CompromisedFrom == from
                    ? ToKey(marked)
                    : throw new KeyCustodyException(
                        $"The attestation key {keyId} is already compromised from {AttestationVerifier.Format(marked.CompromisedFrom!.Value)}; a later time cannot replace an earlier one.");
            }

            var details = new Dictionary<string, object> { ["kid"] = keyId, ["compromised_from"] = AttestationVerifier.Format(from) };
            if (row.CompromisedFrom is { } previous)
            {
                details["previous"] = AttestationVerifier.Format(previous);
            }

            scope.ServiceProvider.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.AttestationKeyCompromised, actor.Name, null, JsonSerializer.Serialize(details));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            AttestationLog.KeyCompromised(logger, keyId, from);
            db.ChangeTracker.Clear();
            return ToKey(await db.Set<AttestationKeyRecord>().AsNoTracking().SingleAsync(k => k.KeyId == keyId, cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Volatile.Read(ref _current)?.PrivateKey.Dispose();
        lock (_disposalGate)
        {
            _retiring.ForEach(k => k.Dispose());
            _retiring = [];
        }

        _gate.Dispose();
    }

    /// <summary>What a private key is sealed to: a wrapped key moved to another row, or a row whose start was edited, fails to open.</summary>
    internal static string Label(string keyId, DateTimeOffset validFrom) =>
        string.Create(CultureInfo.InvariantCulture, $"compliance-attestation-key|{keyId}|{validFrom.ToUnixTimeSeconds()}");

    private int RotationDays => options.Value.Attestation.RotationDays;

    private static AttestationKey ToKey(AttestationKeyRecord row) =>
        new(row.KeyId, row.Algorithm, row.PublicJwk, row.ValidFrom, row.RetiredAt, row.CompromisedFrom);

    private static DateTimeOffset TruncateToSecond(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeSeconds(value.ToUnixTimeSeconds());

    private static Task<AttestationKeyRecord?> CurrentRowAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<ComplianceDbContext>().Set<AttestationKeyRecord>().AsNoTracking()
            .SingleOrDefaultAsync(k => k.RetiredAt == null, cancellationToken);

    /// <summary>Reads the current key from the store, creating or rotating it when needed, and caches it.</summary>
    private async Task<Current> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var cached = Volatile.Read(ref _current);
            if (cached is not null && cached.Fresh(time.GetUtcNow(), RotationDays))
            {
                return cached;
            }

            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                var row = await CurrentRowAsync(scope.ServiceProvider, cancellationToken);
                var now = time.GetUtcNow();
                if (row is null)
                {
                    await TryCreateFirstAsync(scope.ServiceProvider, cancellationToken);
                    continue;
                }

                if (IsDue(row.ValidFrom, now, RotationDays))
                {
                    await TryRotateAsync(scope.ServiceProvider, row, "age", cancellationToken);
                    continue;
                }

                var next = cached?.KeyId == row.KeyId
                    ? cached with { RefreshAt = now + RefreshInterval }
                    : new Current(row.KeyId, row.ValidFrom, await OpenAsync(row, cancellationToken), now + RefreshInterval);
                if (cached is not null && !ReferenceEquals(cached.PrivateKey, next.PrivateKey))
                {
                    RetireLater(cached.PrivateKey);
                }

                Volatile.Write(ref _current, next);
                return next;
            }

            throw new KeyCustodyException($"Could not settle the attestation key after {MaxAttempts} attempts.");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AttestationKeyRecord?> TryCreateFirstAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComplianceDbContext>();
        var key = await CreateAsync(cancellationToken);
        db.Add(key);
        services.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.AttestationKeyCreated, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kid"] = key.KeyId, ["valid_from"] = AttestationVerifier.Format(key.ValidFrom),
        }));
        try
        {
            // Saved with its audit row: a node that loses the race to the partial unique index records nothing.
            await db.SaveChangesAsync(cancellationToken);
            AttestationLog.KeyCreated(logger, key.KeyId, key.ValidFrom);
            return key;
        }
        catch (DbUpdateException e) when (StoreConflicts.IsUniqueViolation(e))
        {
            AttestationLog.SettledElsewhere(logger);
            return null;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Retires <paramref name="current"/> and adds its successor, in one transaction; null when another node retired it first.</summary>
    private async Task<AttestationKeyRecord?> TryRotateAsync(
        IServiceProvider services, AttestationKeyRecord current, string reason, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComplianceDbContext>();

        // Wrapped before the transaction: a remote KEK is a network call.
        var replacement = await CreateAsync(cancellationToken);

        // Another node may have read the retiring key just before, and signs with it until its next refresh: the key
        // stays valid that long, so that those receipts verify. A compromise is what voids signatures, not this.
        var retiredAt = TruncateToSecond(time.GetUtcNow() + RefreshInterval + TimeSpan.FromSeconds(1));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var retired = await db.Set<AttestationKeyRecord>()
            .Where(k => k.KeyId == current.KeyId && k.RetiredAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(k => k.RetiredAt, retiredAt)
                .SetProperty(k => k.WrappedPrivateKey, (byte[]?)null)
                .SetProperty(k => k.KekId, (string?)null)
                .SetProperty(k => k.KekAlgorithm, (string?)null), cancellationToken);
        if (retired == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            AttestationLog.SettledElsewhere(logger);
            return null;
        }

        db.Add(replacement);
        services.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.AttestationKeyRotated, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["retired_kid"] = current.KeyId,
            ["retired_at"] = AttestationVerifier.Format(retiredAt),
            ["kid"] = replacement.KeyId,
            ["valid_from"] = AttestationVerifier.Format(replacement.ValidFrom),
            ["reason"] = reason,
        }));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (StoreConflicts.IsUniqueViolation(e))
        {
            await transaction.RollbackAsync(cancellationToken);
            AttestationLog.SettledElsewhere(logger);
            return null;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }

        AttestationLog.KeyRotated(logger, reason, current.KeyId, retiredAt, replacement.KeyId, replacement.ValidFrom);
        return replacement;
    }

    private async Task<AttestationKeyRecord> CreateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        var jwk = AttestationJwk.FromEcdsa(ecdsa);
        var validFrom = TruncateToSecond(now);
        var sealedKey = KeyEnvelope.Seal(Label(jwk.Thumbprint, validFrom), pkcs8);
        try
        {
            var wrapped = await kek.WrapAsync(sealedKey, cancellationToken);
            return new AttestationKeyRecord
            {
                KeyId = jwk.Thumbprint,
                Algorithm = AttestationVerifier.Algorithm,
                PublicJwk = jwk.ToJson(),
                ValidFrom = validFrom,
                CreatedAt = now,
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

    /// <summary>Unwraps the current key and checks it against its row (curve, and kid = thumbprint).</summary>
    private async Task<ECDsa> OpenAsync(AttestationKeyRecord row, CancellationToken cancellationToken)
    {
        if (row.WrappedPrivateKey is null || row.KekId is null || row.KekAlgorithm is null)
        {
            throw new KeyCustodyException($"The current attestation key {row.KeyId} has no private key in the store.");
        }

        var sealedKey = await kek.UnwrapAsync(new WrappedKey(row.KekId, row.KekAlgorithm, row.WrappedPrivateKey), cancellationToken);
        var pkcs8 = KeyEnvelope.Open(sealedKey, Label(row.KeyId, row.ValidFrom), "attestation key");
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || AttestationJwk.FromEcdsa(ecdsa).Thumbprint != row.KeyId)
            {
                throw new KeyCustodyException($"The attestation key {row.KeyId} does not match its record: it was altered in the store.");
            }

            return ecdsa;
        }
        catch (Exception e) when (e is KeyCustodyException or CryptographicException)
        {
            ecdsa.Dispose();
            throw e as KeyCustodyException ?? new KeyCustodyException($"The private key of the attestation key {row.KeyId} cannot be read.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>Forgets the cached key, so the next signature reads the store (after a rotation made here).</summary>
    private void Invalidate()
    {
        if (Interlocked.Exchange(ref _current, null) is { } dropped)
        {
            RetireLater(dropped.PrivateKey);
        }
    }

    /// <summary>Disposes a replaced private key one replacement later: a caller may still be signing with it.</summary>
    private void RetireLater(ECDsa dropped)
    {
        List<ECDsa> due;
        lock (_disposalGate)
        {
            due = _retiring;
            _retiring = [dropped];
        }

        due.ForEach(k => k.Dispose());
    }

    private static bool IsDue(DateTimeOffset validFrom, DateTimeOffset now, int rotationDays) => now >= validFrom.AddDays(rotationDays);

    /// <summary>The key this node signs with, until <see cref="RefreshAt"/>.</summary>
    private sealed record Current(string KeyId, DateTimeOffset ValidFrom, ECDsa PrivateKey, DateTimeOffset RefreshAt)
    {
        public bool Fresh(DateTimeOffset now, int rotationDays) => now < RefreshAt && !IsDue(ValidFrom, now, rotationDays);
    }
}
