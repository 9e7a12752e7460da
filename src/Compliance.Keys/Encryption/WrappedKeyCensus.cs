using Compliance.Data.Model;
using Compliance.Keys.DataProtection;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Keys.Encryption;

/// <summary>The keys of this module that the compliance store holds wrapped by a key-encryption key, and by which.</summary>
internal sealed record WrappedKeyCensus(int Count, IReadOnlyList<string> KekIds)
{
    public static async Task<WrappedKeyCensus> TakeAsync(ComplianceDbContext db, CancellationToken cancellationToken)
    {
        var signing = await db.Set<SigningKey>().GroupBy(k => k.KekId).Select(g => new { KekId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var secrets = await db.Set<KeyedHashSecret>().GroupBy(k => k.KekId).Select(g => new { KekId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var dataProtection = await db.Set<DataProtectionKey>().CountAsync(cancellationToken);
        return new WrappedKeyCensus(
            signing.Sum(k => k.Count) + secrets.Sum(k => k.Count) + dataProtection,
            [.. signing.Concat(secrets).Select(k => k.KekId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    /// <summary>The refusal when the key file that wrapped these keys is gone.</summary>
    public string MissingKekProblem(string path)
    {
        var ids = KekIds.Count == 0 ? "" : $" by key-encryption key {string.Join(", ", KekIds.Select(id => $"'{id}'"))}";
        return $"Keys:LocalKekPath: the key-encryption key file '{path}' is missing, but the compliance store holds {Count} key(s) wrapped{ids}. "
            + "Restore that file from its backup (or copy it from another node); a new key could not read them and would change every pairwise subject.";
    }
}
