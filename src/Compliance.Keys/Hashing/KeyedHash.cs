using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Keys.Encryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.Hashing;

/// <summary>
/// HMAC-SHA256 under per-purpose secrets held in custody. A secret is created once, by whichever node asks first
/// (the purpose is the primary key), and is never replaced: if it cannot be unwrapped the call fails rather than
/// silently changing every pairwise subject. Unwrapped secrets are cached per node and re-read every few minutes.
/// </summary>
internal sealed class KeyedHash(
    IServiceScopeFactory scopes,
    IKeyEncryptionKey kek,
    TimeProvider time,
    IAuditActor actor,
    ILogger<KeyedHash> logger) : IKeyedHash, IDisposable
{
    public const int SecretBytes = 32;
    public const int MaxPurposeLength = 64;

    /// <summary>How long an unwrapped secret is used before the store is read again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _secrets = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _load = new(1, 1);

    public ValueTask<byte[]> ComputeAsync(string purpose, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ValidatePurpose(purpose);
        if (_secrets.TryGetValue(purpose, out var entry) && time.GetUtcNow() < entry.RefreshAt)
        {
            return ValueTask.FromResult(HMACSHA256.HashData(entry.Secret, data.Span));
        }

        return SlowAsync(purpose, data, entry, cancellationToken);

        async ValueTask<byte[]> SlowAsync(string purpose, ReadOnlyMemory<byte> data, Entry? stale, CancellationToken cancellationToken)
        {
            var secret = await GetSecretAsync(purpose, stale, cancellationToken);
            return HMACSHA256.HashData(secret, data.Span);
        }
    }

    public async ValueTask<KeyedHasher> HasherAsync(string purpose, CancellationToken cancellationToken)
    {
        ValidatePurpose(purpose);
        var secret = _secrets.TryGetValue(purpose, out var entry) && time.GetUtcNow() < entry.RefreshAt
            ? entry.Secret
            : await GetSecretAsync(purpose, entry, cancellationToken);
        return new KeyedHasher(secret);
    }

    public void Dispose() => _load.Dispose();

    private async Task<byte[]> GetSecretAsync(string purpose, Entry? stale, CancellationToken cancellationToken)
    {
        // A stale secret is still the right one (secrets never change): while another caller reads the store, use it.
        if (stale is not null)
        {
            if (!await _load.WaitAsync(TimeSpan.Zero, cancellationToken))
            {
                return stale.Secret;
            }
        }
        else
        {
            await _load.WaitAsync(cancellationToken);
        }

        try
        {
            if (_secrets.TryGetValue(purpose, out var entry) && time.GetUtcNow() < entry.RefreshAt)
            {
                return entry.Secret;
            }

            var secret = await LoadOrCreateAsync(purpose, cancellationToken);
            if (entry is not null && CryptographicOperations.FixedTimeEquals(entry.Secret, secret))
            {
                // Keep the array callers may be hashing with right now; clear the duplicate.
                CryptographicOperations.ZeroMemory(secret);
                secret = entry.Secret;
            }

            _secrets[purpose] = new Entry(secret, time.GetUtcNow() + RefreshInterval);
            return secret;
        }
        finally
        {
            _load.Release();
        }
    }

    private async Task<byte[]> LoadOrCreateAsync(string purpose, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var stored = await db.Set<KeyedHashSecret>().AsNoTracking().SingleOrDefaultAsync(s => s.Purpose == purpose, cancellationToken);
            if (stored is not null)
            {
                var sealedSecret = await kek.UnwrapAsync(new WrappedKey(stored.KekId, stored.KekAlgorithm, stored.WrappedSecret), cancellationToken);
                var secret = KeyEnvelope.Open(sealedSecret, Label(purpose), $"keyed-hash secret of purpose '{purpose}'");
                if (secret.Length != SecretBytes)
                {
                    CryptographicOperations.ZeroMemory(secret);
                    throw new KeyCustodyException($"The keyed-hash secret of purpose '{purpose}' has an unexpected length.");
                }

                return secret;
            }

            // The audit trail remembers every secret ever created: one that disappeared from the store is never
            // silently replaced (every pairwise subject would change). The start-up check refuses such a store too.
            // The secret and its audit row are committed together: a row seen in the trail but not read above was
            // either just created by another node (read it again) or deleted since (refuse).
            var details = CreationDetails(purpose);
            if (await db.Set<AuditEvent>().AnyAsync(e => e.EventId == AuditEventTypes.KeyedHashSecretCreated.Id && e.Details == details, cancellationToken))
            {
                if (await db.Set<KeyedHashSecret>().AnyAsync(s => s.Purpose == purpose, cancellationToken))
                {
                    continue;
                }

                throw new KeyCustodyException(MissingSecretProblem(purpose));
            }

            var created = RandomNumberGenerator.GetBytes(SecretBytes);
            var sealedCreated = KeyEnvelope.Seal(Label(purpose), created);
            try
            {
                var wrapped = await kek.WrapAsync(sealedCreated, cancellationToken);
                db.Add(new KeyedHashSecret
                {
                    Purpose = purpose,
                    CreatedAt = time.GetUtcNow(),
                    KekId = wrapped.KeyId,
                    KekAlgorithm = wrapped.Algorithm,
                    WrappedSecret = wrapped.Ciphertext,
                });
                scope.ServiceProvider.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.KeyedHashSecretCreated, actor.Name, null, details);
                await db.SaveChangesAsync(cancellationToken);
                KeysLog.KeyedHashSecretCreated(logger, purpose);
                return created;
            }
            catch (DbUpdateException e) when (StoreConflicts.IsUniqueViolation(e))
            {
                // Another node created this purpose's secret first: read theirs, so that every node hashes alike.
                CryptographicOperations.ZeroMemory(created);
                db.ChangeTracker.Clear();
            }
            finally
            {
                CryptographicOperations.ZeroMemory(sealedCreated);
            }
        }

        throw new KeyCustodyException($"Could not read or create the keyed-hash secret of purpose '{purpose}'.");
    }

    /// <summary>The details of a secret's creation in the audit trail, written and looked up as one exact string.</summary>
    public static string CreationDetails(string purpose) => JsonSerializer.Serialize(new Dictionary<string, string> { ["purpose"] = purpose });

    public static string MissingSecretProblem(string purpose) =>
        $"Keys: the keyed-hash secret of purpose '{purpose}' was created once (the audit trail records it) but is missing from the compliance store. "
        + "Restore the keyed_hash_secrets table from a backup of the database; it is never re-created, since a new secret would change every pairwise subject.";

    private static string Label(string purpose) => $"compliance-keyed-hash|{purpose}";

    private static void ValidatePurpose(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        if (purpose.Length > MaxPurposeLength || !purpose.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_' or ':'))
        {
            throw new ArgumentException($"A purpose is 1 to {MaxPurposeLength} characters of a-z, 0-9, '-', '.', '_' and ':'.", nameof(purpose));
        }
    }

    private sealed record Entry(byte[] Secret, DateTimeOffset RefreshAt);
}
