using Compliance.Data.Model;
using Compliance.Keys.Attestation;
using Compliance.Keys.DataProtection;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Keys.Encryption;

/// <summary>
/// The keys of this module that the compliance store holds wrapped by a key-encryption key, counted by the KEK that
/// wrapped them: signing keys, keyed-hash secrets, Data Protection keys and attestation keys (only those whose private
/// key is still kept: a retired attestation key has none).
/// </summary>
internal sealed record WrappedKeyCensus(IReadOnlyDictionary<string, int> ByKek)
{
    public int Count => ByKek.Values.Sum();

    public IReadOnlyList<string> KekIds => [.. ByKek.Keys.Order(StringComparer.Ordinal)];

    public static async Task<WrappedKeyCensus> TakeAsync(ComplianceDbContext db, CancellationToken cancellationToken)
    {
        var signing = await db.Set<SigningKey>().GroupBy(k => k.KekId).Select(g => new { KekId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var secrets = await db.Set<KeyedHashSecret>().GroupBy(k => k.KekId).Select(g => new { KekId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var attestation = await db.Set<AttestationKeyRecord>().Where(k => k.KekId != null).GroupBy(k => k.KekId!).Select(g => new { KekId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var dataProtection = await db.Set<DataProtectionKey>().Select(k => k.Xml).ToListAsync(cancellationToken);
        var byKek = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (kekId, count) in signing.Select(k => (k.KekId, k.Count)).Concat(secrets.Select(k => (k.KekId, k.Count))).Concat(attestation.Select(k => (k.KekId, k.Count))))
        {
            byKek[kekId] = byKek.GetValueOrDefault(kekId) + count;
        }

        foreach (var kekId in dataProtection.SelectMany(KekXml.WrappedKeyIds))
        {
            byKek[kekId] = byKek.GetValueOrDefault(kekId) + 1;
        }

        return new WrappedKeyCensus(byKek);
    }

    /// <summary>The KEK ids whose keys <paramref name="kek"/> cannot unwrap.</summary>
    public IReadOnlyList<string> Unreadable(IKeyEncryptionKey kek) => [.. KekIds.Where(id => !kek.CanUnwrap(id))];

    /// <summary>The refusal when the key file that wrapped these keys is gone.</summary>
    public string MissingKekProblem(string setting, string path)
    {
        var ids = KekIds.Count == 0 ? "" : $" by key-encryption key {string.Join(", ", KekIds.Select(id => $"'{id}'"))}";
        return $"{setting}: the key-encryption key file '{path}' is missing, but the compliance store holds {Count} key(s) wrapped{ids}. "
            + "Restore that file from its backup (or copy it from another node); a new key could not read them and would change every pairwise subject. "
            + "To move to a new key-encryption key, name the current one as Keys:Previous and run `compliance keys rotate-kek`.";
    }

    /// <summary>The refusal when this node holds none of the KEKs that wrapped some stored keys.</summary>
    public string UnreadableProblem(IKeyEncryptionKey kek)
    {
        var missing = Unreadable(kek);
        var count = missing.Sum(id => ByKek[id]);
        return $"Keys: the compliance store holds {count} key(s) wrapped by key-encryption key {string.Join(", ", missing.Select(id => $"'{id}'"))}, "
            + $"which this node does not hold (it holds '{kek.KeyId}'). Give it that key, or during a KEK rotation set it as Keys:Previous until `compliance keys rotate-kek` has finished.";
    }
}
