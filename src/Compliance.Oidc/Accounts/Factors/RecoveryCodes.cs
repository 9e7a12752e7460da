using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Model;
using Compliance.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>
/// A row of <c>account_recovery_codes</c>: one single-use recovery code of an account, kept only as a keyed hash
/// (HMAC under a custody-held secret), so that the database alone does not allow guessing the codes offline.
/// </summary>
internal sealed class RecoveryCode
{
    public Guid AccountId { get; set; }

    public string CodeHash { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}

internal sealed class RecoveryCodeConfiguration : IEntityTypeConfiguration<RecoveryCode>
{
    public void Configure(EntityTypeBuilder<RecoveryCode> builder)
    {
        builder.ToTable("account_recovery_codes");
        builder.HasKey(c => new { c.AccountId, c.CodeHash });
        builder.Property(c => c.AccountId).HasColumnName("account_id");
        builder.Property(c => c.CodeHash).HasColumnName("code_hash").HasMaxLength(64);
        builder.Property(c => c.CreatedAt).HasColumnName("created_at");
        builder.Property(c => c.UsedAt).HasColumnName("used_at");
    }
}

/// <summary>
/// Ten recovery codes per account, shown once when they are made, each usable once (a conditional update, so a code
/// used on one node is refused on every other). Making a new set replaces the old one entirely.
/// </summary>
internal sealed class RecoveryCodes(ComplianceDbContext db, IKeyedHash keyedHash, TimeProvider time)
{
    public const int Count = 10;
    public const string KeyPurpose = "recovery-code";

    // Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L): 10 × log2(31) ≈ 49.5 bits each.
    private const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    private const int Length = 10;

    /// <summary>Replaces the account's codes with ten new ones, returned in clear this once (as <c>XXXXX-XXXXX</c>).</summary>
    public async Task<IReadOnlyList<string>> RegenerateAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var codes = Enumerable.Range(0, Count).Select(_ => NewCode()).ToList();
        var now = time.GetUtcNow();
        var rows = new List<RecoveryCode>(Count);
        foreach (var code in codes)
        {
            rows.Add(new RecoveryCode { AccountId = accountId, CodeHash = await HashAsync(code, cancellationToken), CreatedAt = now });
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Set<RecoveryCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        db.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return codes.Select(c => $"{c[..5]}-{c[5..]}").ToList();
    }

    /// <summary>Uses one code; true only for an unused code of this account. Spaces, dashes and case are forgiven.</summary>
    public async Task<bool> RedeemAsync(Guid accountId, string? typed, CancellationToken cancellationToken)
    {
        var code = Normalize(typed);
        if (code is null)
        {
            return false;
        }

        var hash = await HashAsync(code, cancellationToken);
        var now = time.GetUtcNow();
        return await db.Set<RecoveryCode>()
            .Where(c => c.AccountId == accountId && c.CodeHash == hash && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), cancellationToken) == 1;
    }

    /// <summary>Deletes every code of the account (its authenticator was removed, or the account is erased).</summary>
    public Task<int> RemoveAllAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<RecoveryCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);

    /// <summary>How many unused codes the account has left.</summary>
    public Task<int> RemainingAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<RecoveryCode>().CountAsync(c => c.AccountId == accountId && c.UsedAt == null, cancellationToken);

    /// <summary>When the account last used a recovery code, or null.</summary>
    public Task<DateTimeOffset?> LastUsedAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<RecoveryCode>().Where(c => c.AccountId == accountId && c.UsedAt != null).MaxAsync(c => c.UsedAt, cancellationToken);

    private static string NewCode() =>
        string.Create(Length, 0, (chars, _) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
            }
        });

    private static string? Normalize(string? typed)
    {
        if (typed is null || typed.Length > 32)
        {
            return null;
        }

        var code = new string(typed.Where(c => c is not (' ' or '-')).Select(char.ToUpperInvariant).ToArray());
        return code.Length == Length && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) ? code : null;
    }

    private async Task<string> HashAsync(string code, CancellationToken cancellationToken) =>
        Convert.ToHexStringLower(await keyedHash.ComputeAsync(KeyPurpose, Encoding.ASCII.GetBytes(code), cancellationToken));
}
