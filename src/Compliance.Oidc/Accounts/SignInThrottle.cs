using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Model;
using Compliance.Keys;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// The per-pseudonym password throttle, shared by every node through the compliance store. Each sign-in attempt takes
/// a slot in one atomic statement <em>before</em> the password is checked: the first <c>Oidc:MaxFailedSignIns</c>
/// attempts of a window are checked, the last of them locks the pseudonym for <c>Oidc:LockoutMinutes</c>, and every
/// attempt beyond is refused unchecked, however many arrive at once and on whichever node. A success clears the row.
/// It applies to any submitted pseudonym, existing or not, so a lockout does not tell whether an account exists.
/// </summary>
/// <remarks>
/// This replaces ASP.NET Core Identity's lockout, whose read-modify-write of <c>access_failed_count</c> loses counts
/// under parallel attempts. Rows are keyed by a keyed hash of the normalized pseudonym: the table names nobody.
/// </remarks>
internal sealed class SignInThrottle(
    ComplianceDbContext db,
    IKeyedHash keyedHash,
    ILookupNormalizer normalizer,
    IOptions<OidcOptions> options,
    TimeProvider time)
{
    public const string HashPurpose = "sign-in-throttle";

    /// <summary>Staff names are counted under a key of their own: a staff name and a patient pseudonym never share a count.</summary>
    public const string StaffHashPurpose = "staff-sign-in-throttle";

    // One statement, atomic on both providers: insert the first attempt, or count one more in the current window.
    // Column references in SET see the row as it was, so every branch reads the same old values.
    private const string TakeSlotSql = """
        INSERT INTO sign_in_throttle AS t (pseudonym_hash, failures, window_start, locked_until)
        VALUES ({0}, 1, {1}, NULL)
        ON CONFLICT (pseudonym_hash) DO UPDATE SET
            failures = CASE
                WHEN t.locked_until > {1} THEN t.failures + 1
                WHEN t.window_start <= {2} OR t.locked_until IS NOT NULL THEN 1
                ELSE t.failures + 1 END,
            window_start = CASE
                WHEN t.locked_until > {1} THEN t.window_start
                WHEN t.window_start <= {2} OR t.locked_until IS NOT NULL THEN {1}
                ELSE t.window_start END,
            locked_until = CASE
                WHEN t.locked_until > {1} THEN t.locked_until
                WHEN t.window_start <= {2} OR t.locked_until IS NOT NULL THEN NULL
                WHEN t.failures + 1 >= {4} THEN {3}
                ELSE NULL END
        RETURNING failures AS "Value"
        """;


    /// <summary>Takes an attempt for <paramref name="pseudonym"/>; checks its password only when the result is permitted.</summary>
    public Task<SignInAttempt> TakeAsync(string pseudonym, CancellationToken cancellationToken) =>
        TakeAsync(pseudonym, HashPurpose, cancellationToken);

    /// <summary>Takes an attempt for <paramref name="name"/> counted under <paramref name="keyPurpose"/> (<see cref="HashPurpose"/> or <see cref="StaffHashPurpose"/>).</summary>
    public async Task<SignInAttempt> TakeAsync(string name, string keyPurpose, CancellationToken cancellationToken)
    {
        var key = await KeyAsync(name, keyPurpose, cancellationToken);
        var now = time.GetUtcNow();
        var window = TimeSpan.FromMinutes(options.Value.LockoutMinutes);
        var failures = await db.Database.SqlQueryRaw<int>(
                TakeSlotSql, key, Time(now), Time(now - window), Time(now + window), options.Value.MaxFailedSignIns)
            .ToListAsync(cancellationToken);

        // Forgotten pseudonyms would pile up: now and then, whichever node is here clears the rows that no longer count.
        if (Random.Shared.Next(64) == 0)
        {
            await PruneAsync(now - window, now, cancellationToken);
        }

        return new SignInAttempt(key, failures[0] <= options.Value.MaxFailedSignIns);
    }

    /// <summary>A correct password: the pseudonym starts again from zero.</summary>
    public Task ResetAsync(SignInAttempt attempt, CancellationToken cancellationToken) =>
        db.Set<SignInThrottleEntry>().Where(e => e.PseudonymHash == attempt.Key).ExecuteDeleteAsync(cancellationToken);

    private Task<int> PruneAsync(DateTimeOffset windowFloor, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Set<SignInThrottleEntry>()
            .Where(e => e.WindowStart <= windowFloor && (e.LockedUntil == null || e.LockedUntil <= now))
            .ExecuteDeleteAsync(cancellationToken);

    private async Task<string> KeyAsync(string pseudonym, string keyPurpose, CancellationToken cancellationToken)
    {
        var normalized = normalizer.NormalizeName(pseudonym) ?? "";
        var hash = await keyedHash.ComputeAsync(keyPurpose, Encoding.UTF8.GetBytes(normalized), cancellationToken);
        try
        {
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    // Raw SQL bypasses the model's value converters: on SQLite a time is the integer the model stores.
    private object Time(DateTimeOffset value) => db.StoredTime(value);
}

/// <summary>One attempt's slot: <see cref="Permitted"/> is false when the pseudonym is locked.</summary>
internal readonly record struct SignInAttempt(string Key, bool Permitted);

/// <summary>A row of <c>sign_in_throttle</c>: attempts for one keyed-hashed pseudonym in the current window.</summary>
internal sealed class SignInThrottleEntry
{
    public string PseudonymHash { get; set; } = "";

    public int Failures { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }
}

internal sealed class SignInThrottleEntryConfiguration : IEntityTypeConfiguration<SignInThrottleEntry>
{
    public void Configure(EntityTypeBuilder<SignInThrottleEntry> builder)
    {
        builder.ToTable("sign_in_throttle");
        builder.HasKey(e => e.PseudonymHash);
        builder.Property(e => e.PseudonymHash).HasColumnName("pseudonym_hash").HasMaxLength(64);
        builder.Property(e => e.Failures).HasColumnName("failures");
        builder.Property(e => e.WindowStart).HasColumnName("window_start");
        builder.Property(e => e.LockedUntil).HasColumnName("locked_until");

        // The pruning query looks for windows long past.
        builder.HasIndex(e => e.WindowStart).HasDatabaseName("ix_sign_in_throttle_window_start");
    }
}
