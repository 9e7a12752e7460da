using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Compliance.Data.Model;
using Compliance.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Accounts;

/// <summary>One recent sign-in, as the security page shows it.</summary>
internal sealed record RecentSignIn(DateTimeOffset At, string Browser, string Methods, bool NewNetwork);

/// <summary>
/// The last sign-ins of an account, for the patient to spot one that was not theirs: when, with which browser family,
/// by which methods, and whether the network was new for this account. No address is kept: only a keyed hash of its
/// /24 (IPv4) or /48 (IPv6) prefix, salted by the account so that two accounts' rows cannot be joined; no user agent,
/// only its family. At most <see cref="Kept"/> rows per account.
/// </summary>
internal sealed class SignInHistory(ComplianceDbContext db, IKeyedHash keyedHash, TimeProvider time)
{
    public const string HashPurpose = "sign-in-network";
    public const int Kept = 20;

    public async Task RecordAsync(HttpContext context, Guid accountId, IReadOnlyList<string> amr)
    {
        ArgumentNullException.ThrowIfNull(context);
        var network = await NetworkHashAsync(accountId, context.Connection.RemoteIpAddress, context.RequestAborted);
        // One read: whether the account has sign-ins at all, and whether one came from this network.
        var seen = await db.Set<SignInRecord>().Where(r => r.AccountId == accountId).Select(r => r.NetworkHash == network).Distinct().ToListAsync(context.RequestAborted);
        var (first, known) = (seen.Count == 0, seen.Contains(true));
        var now = time.GetUtcNow();
        db.Add(new SignInRecord
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            SignedInAt = now,
            Browser = BrowserFamily(context.Request.Headers.UserAgent.ToString()),
            Methods = string.Join(' ', amr),
            NetworkHash = network,
            NewNetwork = !known && !first,
        });
        await db.SaveChangesAsync(context.RequestAborted);

        // Only the last ones are kept.
        var keepFrom = await db.Set<SignInRecord>().Where(r => r.AccountId == accountId).OrderByDescending(r => r.SignedInAt)
            .Skip(Kept - 1).Select(r => (DateTimeOffset?)r.SignedInAt).FirstOrDefaultAsync(context.RequestAborted);
        if (keepFrom is { } floor)
        {
            await db.Set<SignInRecord>().Where(r => r.AccountId == accountId && r.SignedInAt < floor).ExecuteDeleteAsync(context.RequestAborted);
        }
    }

    public async Task<IReadOnlyList<RecentSignIn>> RecentAsync(Guid accountId, int count, CancellationToken cancellationToken) =>
        await db.Set<SignInRecord>().AsNoTracking().Where(r => r.AccountId == accountId).OrderByDescending(r => r.SignedInAt).Take(count)
            .Select(r => new RecentSignIn(r.SignedInAt, r.Browser, r.Methods, r.NewNetwork))
            .ToListAsync(cancellationToken);

    /// <summary>The browser family only: Edge, Firefox, Chrome, Safari or other. The user agent itself is not kept.</summary>
    internal static string BrowserFamily(string userAgent) => userAgent switch
    {
        _ when userAgent.Contains("Edg/", StringComparison.Ordinal) => "Edge",
        _ when userAgent.Contains("Firefox/", StringComparison.Ordinal) => "Firefox",
        _ when userAgent.Contains("Chrome/", StringComparison.Ordinal) || userAgent.Contains("Chromium/", StringComparison.Ordinal) => "Chrome",
        _ when userAgent.Contains("Safari/", StringComparison.Ordinal) => "Safari",
        _ => "other",
    };

    /// <summary>The /24 of an IPv4 address or the /48 of an IPv6 one (what one subscriber's network usually is); null when unknown.</summary>
    internal static byte[]? NetworkPrefix(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork ? [4, .. bytes[..3]] : [6, .. bytes[..6]];
    }

    private async Task<string> NetworkHashAsync(Guid accountId, IPAddress? address, CancellationToken cancellationToken)
    {
        var prefix = NetworkPrefix(address) ?? [0];
        var hash = await keyedHash.ComputeAsync(HashPurpose, (byte[])[.. accountId.ToByteArray(), .. prefix], cancellationToken);
        try
        {
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }
}

/// <summary>A row of <c>account_sign_ins</c>.</summary>
internal sealed class SignInRecord
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public DateTimeOffset SignedInAt { get; set; }

    public string Browser { get; set; } = "";

    public string Methods { get; set; } = "";

    public string NetworkHash { get; set; } = "";

    public bool NewNetwork { get; set; }
}

internal sealed class SignInRecordConfiguration : IEntityTypeConfiguration<SignInRecord>
{
    public void Configure(EntityTypeBuilder<SignInRecord> builder)
    {
        builder.ToTable("account_sign_ins");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).HasColumnName("id");
        builder.Property(r => r.AccountId).HasColumnName("account_id");
        builder.Property(r => r.SignedInAt).HasColumnName("signed_in_at");
        builder.Property(r => r.Browser).HasColumnName("browser").HasMaxLength(16);
        builder.Property(r => r.Methods).HasColumnName("methods").HasMaxLength(64);
        builder.Property(r => r.NetworkHash).HasColumnName("network_hash").HasMaxLength(64);
        builder.Property(r => r.NewNetwork).HasColumnName("new_network");
        builder.HasIndex(r => new { r.AccountId, r.SignedInAt }).HasDatabaseName("ix_account_sign_ins_account_id_signed_in_at");
    }
}
