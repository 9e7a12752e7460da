using System.Security.Cryptography;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Clients;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Staff;

/// <summary>
/// Staff passwords: ASP.NET Core Identity's hasher (PBKDF2-HMAC-SHA512, its version 3 format), with its defaults, the
/// same on every node and in the command.
/// </summary>
internal static class StaffPasswords
{
    public static readonly PasswordHasher<StaffAccount> Hasher = new();

    // A valid hash of a random password, verified when no account has the name, so that both cost the same time.
    public static readonly string DummyHash = Hasher.HashPassword(new StaffAccount(), Guid.NewGuid().ToString());
}

/// <summary>A staff account as <c>compliance staff list</c> shows it: never its password hash or its second factor's key.</summary>
public sealed record StaffListing(
    Guid Id,
    string Name,
    string Role,
    string? PartnerClientId,
    bool SecondFactorEnrolled,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt);

/// <summary>A new staff account and its initial password, shown once: it works for the first sign-in only.</summary>
public sealed record AddedStaff(StaffListing Account, string InitialPassword);

/// <summary>A staff account that could not be added or removed; the message names the reason, in one line.</summary>
public sealed class StaffAdministrationException : Exception
{
    public StaffAdministrationException()
    {
    }

    public StaffAdministrationException(string message)
        : base(message)
    {
    }

    public StaffAdministrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Adds, lists and removes staff accounts (<c>compliance staff</c>). Each change is an audit row naming the actor of
/// this process, saved in the same transaction as the change. Removing an account also removes its second factor and
/// ends its sessions on every node.
/// </summary>
public sealed class StaffAdministration(
    ComplianceDbContext db,
    IAuditTrail trail,
    IAuditActor actor,
    TimeProvider time)
{
    public const int MinNameLength = 3;
    public const int MaxNameLength = 64;

    // Four groups of five from an alphabet without look-alikes: 20 × log2(31) ≈ 99 bits.
    private const string PasswordAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

    /// <summary>An account name: 3 to 64 letters, digits, '.', '_', '-' or '@' (like an operator name: no spaces, no civil name needed).</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: >= MinNameLength and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    /// <summary>
    /// Adds an account. Its password is <paramref name="initialPassword"/> (checked by the password rules) or, when
    /// null, a random one; either way it works once: the first sign-in replaces it and sets up the second factor.
    /// </summary>
    public async Task<AddedStaff> AddAsync(string name, string role, string? partnerClientId, string? initialPassword, CancellationToken cancellationToken)
    {
        if (!IsValidName(name))
        {
            throw new StaffAdministrationException($"name: {MinNameLength} to {MaxNameLength} characters among letters, digits, '.', '_', '-' and '@'.");
        }

        if (!StaffRoles.IsKnown(role))
        {
            throw new StaffAdministrationException($"role: '{role}' is not a staff role; expected {string.Join(" or ", StaffRoles.All)}.");
        }

        if (partnerClientId is not null && role != StaffRoles.Dpo)
        {
            throw new StaffAdministrationException("--partner: only a DPO answers for one partner; an administrator is service-wide.");
        }

        if (partnerClientId is not null
            && !await db.Set<Client>().AnyAsync(c => c.ClientId == partnerClientId && c.RemovedAt == null, cancellationToken))
        {
            throw new StaffAdministrationException($"--partner: no registered client '{partnerClientId}' (unknown or removed).");
        }

        var password = initialPassword ?? NewPassword(name);
        switch (PasswordPolicy.Check(password, name))
        {
            case PasswordVerdict.WrongLength:
                throw new StaffAdministrationException($"password: {PasswordPolicy.MinLength} to {PasswordPolicy.MaxLength} characters.");
            case PasswordVerdict.ContainsPseudonym:
                throw new StaffAdministrationException("password: it must not contain the name.");
            case PasswordVerdict.Common:
                throw new StaffAdministrationException("password: too common (words, sequences, years or repeats that attackers try first).");
        }

        var normalized = name.ToUpperInvariant();
        if (await db.Set<StaffAccount>().AnyAsync(s => s.NormalizedUserName == normalized, cancellationToken))
        {
            throw new StaffAdministrationException($"name: a staff account '{name}' already exists.");
        }

        var now = time.GetUtcNow();
        var account = new StaffAccount
        {
            Id = Guid.CreateVersion7(now),
            UserName = name,
            NormalizedUserName = normalized,
            Role = role,
            PartnerClientId = partnerClientId,
            PasswordChangeRequired = true,
            CreatedAt = now,
        };
        account.PasswordHash = StaffPasswords.Hasher.HashPassword(account, password);
        db.Add(account);
        trail.Append(AuditEventTypes.StaffAdded, actor.Name, null, Details(new()
        {
            ["staff_id"] = account.Id.ToString("D"),
            ["name"] = name,
            ["role"] = role,
            ["partner_client_id"] = partnerClientId,
        }));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e)
        {
            // Two operators adding the same name at once: the unique index decides. Any other failure stays what it is.
            db.ChangeTracker.Clear();
            if (!await db.Set<StaffAccount>().AnyAsync(s => s.NormalizedUserName == normalized && s.Id != account.Id, cancellationToken))
            {
                throw;
            }

            throw new StaffAdministrationException($"name: a staff account '{name}' already exists.", e);
        }

        return new AddedStaff(Listing(account, enrolled: false), password);
    }

    /// <summary>Every staff account, by name.</summary>
    public async Task<IReadOnlyList<StaffListing>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Set<StaffAccount>().AsNoTracking()
            .Select(s => new { Account = s, Enrolled = db.Set<TotpFactor>().Any(f => f.AccountId == s.Id && f.ConfirmedAt != null) })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => Listing(r.Account, r.Enrolled)).OrderBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Removes an account, in one transaction: its row, its authenticator key and recovery codes, and its sessions
    /// (ended, so that the next request of every node refuses them). Null for an unknown name.
    /// </summary>
    public async Task<int?> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = name.ToUpperInvariant();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var account = await db.Set<StaffAccount>().AsNoTracking().FirstOrDefaultAsync(s => s.NormalizedUserName == normalized, cancellationToken);
        if (account is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await db.Set<StaffAccount>().Where(s => s.Id == account.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Set<TotpFactor>().Where(f => f.AccountId == account.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Set<RecoveryCode>().Where(c => c.AccountId == account.Id).ExecuteDeleteAsync(cancellationToken);
        var ended = await db.Set<StaffSessionRecord>().Where(s => s.StaffId == account.Id && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.EndedAt, now).SetProperty(r => r.EndReason, StaffSessionEndReasons.Removed), cancellationToken);
        trail.Append(AuditEventTypes.StaffRemoved, actor.Name, null, Details(new()
        {
            ["staff_id"] = account.Id.ToString("D"),
            ["name"] = account.UserName,
            ["role"] = account.Role,
            ["sessions_ended"] = ended,
        }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ended;
    }

    /// <summary>A random password that the password rules accept (a random draw could, rarely, spell a common word).</summary>
    private static string NewPassword(string name)
    {
        while (true)
        {
            var chars = new char[20];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = PasswordAlphabet[RandomNumberGenerator.GetInt32(PasswordAlphabet.Length)];
            }

            var password = string.Join('-', Enumerable.Range(0, 4).Select(g => new string(chars, g * 5, 5)));
            if (PasswordPolicy.Check(password, name) == PasswordVerdict.Accepted)
            {
                return password;
            }
        }
    }

    private static StaffListing Listing(StaffAccount account, bool enrolled) =>
        new(account.Id, account.UserName, account.Role, account.PartnerClientId, enrolled, account.CreatedAt, account.LastSignInAt);

    private static string Details(Dictionary<string, object?> details) =>
        JsonSerializer.Serialize(details.Where(d => d.Value is not null).ToDictionary(d => d.Key, d => d.Value));
}
