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
/// The per-pseudonym throttle of passwords and second-factor codes, shared by every node through the compliance store.
/// Each attempt takes a slot in one atomic statement <em>before</em> anything is checked: the first
/// <c>Oidc:MaxFailedSignIns</c> attempts of a window are checked, the last of them locks the pseudonym, and every
/// attempt beyond is refused unchecked, however many arrive at once and on whichever node. Locks grow: the n-th lasts
/// <see cref="LockoutSchedule.Duration"/>. A success clears the row; otherwise the lock count is forgotten a day
/// (<see cref="LockoutSchedule.Memory"/>) after the last lock ended. It applies to any submitted pseudonym, existing or
/// not, so a lockout does not tell whether an account exists.
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
    // Column references in SET see the row as it was, so every branch reads the same old values. A new lock ends at
    // the parameter for its rank ({4} to {11}, computed by LockoutSchedule), and counts one more lock.
    private const string TakeSlotSql = """
        INSERT INTO sign_in_throttle AS t (pseudonym_hash, failures, window_start, locked_until, lockouts)
        VALUES ({0}, 1, {1}, NULL, 0)
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
                WHEN t.failures + 1 >= {3} THEN CASE t.lockouts
                    WHEN 0 THEN {4} WHEN 1 THEN {5} WHEN 2 THEN {6} WHEN 3 THEN {7}
                    WHEN 4 THEN {8} WHEN 5 THEN {9} WHEN 6 THEN {10} ELSE {11} END
                ELSE NULL END,
            lockouts = CASE
                WHEN t.locked_until > {1} THEN t.lockouts
                WHEN t.window_start <= {2} OR t.locked_until IS NOT NULL THEN t.lockouts
                WHEN t.failures + 1 >= {3} THEN t.lockouts + 1
                ELSE t.lockouts END
        RETURNING failures AS "Failures", lockouts AS "Lockouts"
        """;


    /// <summary>Takes an attempt for <paramref name="pseudonym"/>; checks its password only when the result is permitted.</summary>
    public Task<SignInAttempt> TakeAsync(string pseudonym, CancellationToken cancellationToken) =>
        TakeAsync(pseudonym, HashPurpose, cancellationToken);

    /// <summary>Takes an attempt for <paramref name="name"/> counted under <paramref name="keyPurpose"/> (<see cref="HashPurpose"/> or <see cref="StaffHashPurpose"/>).</summary>
    public async Task<SignInAttempt> TakeAsync(string name, string keyPurpose, CancellationToken cancellationToken)
    {
        var key = await KeyAsync(name, keyPurpose, cancellationToken);
        var now = time.GetUtcNow();
        var schedule = LockoutSchedule.From(options.Value);
        var window = TimeSpan.FromMinutes(options.Value.LockoutMinutes);
        object[] parameters =
        [
            key, Time(now), Time(now - window), options.Value.MaxFailedSignIns,
            .. Enumerable.Range(0, LockoutSchedule.Ranks).Select(rank => Time(now + schedule.Duration(rank))),
        ];
        var slot = (await db.Database.SqlQueryRaw<ThrottleSlot>(TakeSlotSql, parameters).ToListAsync(cancellationToken))[0];

        // Forgotten pseudonyms would pile up: now and then, whichever node is here clears the rows that no longer count.
        if (Random.Shared.Next(64) == 0)
        {
            await PruneAsync(now - window, now - LockoutSchedule.Memory, now, cancellationToken);
        }

        // A refused attempt is told the length of the lock it met: an upper bound of what remains.
        var permitted = slot.Failures <= options.Value.MaxFailedSignIns;
        return new SignInAttempt(key, permitted, permitted ? TimeSpan.Zero : schedule.Duration(Math.Max(0, slot.Lockouts - 1)));
    }

    /// <summary>A correct password: the pseudonym starts again from zero.</summary>
    public Task ResetAsync(SignInAttempt attempt, CancellationToken cancellationToken) =>
        db.Set<SignInThrottleEntry>().Where(e => e.PseudonymHash == attempt.Key).ExecuteDeleteAsync(cancellationToken);

    private Task<int> PruneAsync(DateTimeOffset windowFloor, DateTimeOffset memoryFloor, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Set<SignInThrottleEntry>()
            .Where(e => (e.Lockouts == 0 && e.WindowStart <= windowFloor && (e.LockedUntil == null || e.LockedUntil <= now))
                || (e.WindowStart <= memoryFloor && (e.LockedUntil == null || e.LockedUntil <= memoryFloor)))
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

/// <summary>
/// One attempt's slot: <see cref="Permitted"/> is false when the pseudonym is locked, and <see cref="RetryAfter"/> is then
/// the length of that lock.
/// </summary>
internal readonly record struct SignInAttempt(string Key, bool Permitted, TimeSpan RetryAfter);

/// <summary>What the take-a-slot statement returns.</summary>
internal sealed class ThrottleSlot
{
    public int Failures { get; set; }

    public int Lockouts { get; set; }
}

/// <summary>
/// How long each lock of a pseudonym lasts: the first <c>Oidc:LockoutMinutes</c>, each next one
/// <c>Oidc:LockoutGrowth</c> times longer, never more than <c>Oidc:MaxLockoutMinutes</c>; from the
/// <see cref="Ranks"/>-th lock on, as long as that one.
/// </summary>
internal sealed record LockoutSchedule(int BaseMinutes, int Growth, int MaxMinutes)
{
    /// <summary>The distinct lock lengths the store statement knows; beyond, every lock is the maximum.</summary>
    public const int Ranks = 8;

    /// <summary>How long after its last lock ended a pseudonym's lock count is forgotten.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromDays(1);

    public static LockoutSchedule From(OidcOptions options) => new(options.LockoutMinutes, options.LockoutGrowth, options.MaxLockoutMinutes);

    /// <summary>The length of the lock that follows <paramref name="earlierLocks"/> earlier ones.</summary>
    public TimeSpan Duration(int earlierLocks)
    {
        var minutes = (double)BaseMinutes;
        for (var i = 0; i < Math.Min(earlierLocks, Ranks - 1) && minutes < MaxMinutes; i++)
        {
            minutes *= Growth;
        }

        return TimeSpan.FromMinutes(Math.Min(minutes, MaxMinutes));
    }
}

/// <summary>A row of <c>sign_in_throttle</c>: attempts for one keyed-hashed pseudonym in the current window.</summary>
internal sealed class SignInThrottleEntry
{
    public string PseudonymHash { get; set; } = "";

    public int Failures { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>Locks so far: the next one lasts longer.</summary>
    public int Lockouts { get; set; }
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
        builder.Property(e => e.Lockouts).HasColumnName("lockouts");

        // The pruning query looks for windows long past.
        builder.HasIndex(e => e.WindowStart).HasDatabaseName("ix_sign_in_throttle_window_start");
    }
}
