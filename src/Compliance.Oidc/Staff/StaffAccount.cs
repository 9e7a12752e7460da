using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Staff;

/// <summary>
/// A row of <c>staff_accounts</c>: someone who runs the service (an administrator) or answers for a partner's data (a
/// DPO). Not a patient account: no pseudonym, no pairwise subject, never a patient session or an authorization code.
/// Its id is a fresh UUIDv7, so its second factor can live in the same tables as a patient's without ever meeting one.
/// </summary>
internal sealed class StaffAccount
{
    public Guid Id { get; set; }

    /// <summary>The sign-in name (an account name, 3 to 64 of <c>A-Z a-z 0-9 . _ - @</c>), as the operator typed it.</summary>
    public string UserName { get; set; } = "";

    /// <summary>The name upper-cased (invariant): unique, and what sign-in looks up.</summary>
    public string NormalizedUserName { get; set; } = "";

    /// <summary>One of <see cref="StaffRoles"/>.</summary>
    public string Role { get; set; } = "";

    /// <summary>The partner (a registered client_id) a DPO answers for; null for a service-wide account.</summary>
    public string? PartnerClientId { get; set; }

    /// <summary>ASP.NET Core Identity's password hash (PBKDF2); never printed.</summary>
    public string PasswordHash { get; set; } = "";

    /// <summary>True while the password is the initial one the operator was given: the first sign-in replaces it.</summary>
    public bool PasswordChangeRequired { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }
}

/// <summary>The staff roles. An administrator runs the service (the job dashboard); a DPO reads audit reports.</summary>
public static class StaffRoles
{
    public const string Admin = "admin";
    public const string Dpo = "dpo";

    public static IReadOnlyList<string> All { get; } = [Dpo, Admin];

    public static bool IsKnown(string? role) => role is Admin or Dpo;
}

internal sealed class StaffAccountConfiguration : IEntityTypeConfiguration<StaffAccount>
{
    public void Configure(EntityTypeBuilder<StaffAccount> builder)
    {
        builder.ToTable("staff_accounts", table => table.HasCheckConstraint("ck_staff_accounts_role", "role IN ('dpo', 'admin')"));
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id");
        builder.Property(s => s.UserName).HasColumnName("user_name").HasMaxLength(64);
        builder.Property(s => s.NormalizedUserName).HasColumnName("normalized_user_name").HasMaxLength(64);
        builder.Property(s => s.Role).HasColumnName("role").HasMaxLength(16);
        builder.Property(s => s.PartnerClientId).HasColumnName("partner_client_id").HasMaxLength(100);
        builder.Property(s => s.PasswordHash).HasColumnName("password_hash").HasMaxLength(512);
        builder.Property(s => s.PasswordChangeRequired).HasColumnName("password_change_required");
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.Property(s => s.LastSignInAt).HasColumnName("last_sign_in_at");
        builder.HasIndex(s => s.NormalizedUserName).IsUnique().HasDatabaseName("ux_staff_accounts_normalized_user_name");
    }
}

/// <summary>
/// A row of <c>staff_sessions</c>: a staff sign-in, kept server-side so that every node sees it end (sign-out, removal
/// of the account, idle or absolute lifetime). The cookie only names it.
/// </summary>
internal sealed class StaffSessionRecord
{
    /// <summary>128 random bits, base64url.</summary>
    public string Id { get; set; } = "";

    public Guid StaffId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last request seen, to the minute: the idle lifetime runs from it.</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset AbsoluteExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>One of <see cref="StaffSessionEndReasons"/>.</summary>
    public string? EndReason { get; set; }
}

/// <summary>Why a staff session ended.</summary>
internal static class StaffSessionEndReasons
{
    public const string SignedOut = "signed_out";
    public const string Replaced = "replaced";
    public const string Removed = "staff_removed";
}

internal sealed class StaffSessionRecordConfiguration : IEntityTypeConfiguration<StaffSessionRecord>
{
    public void Configure(EntityTypeBuilder<StaffSessionRecord> builder)
    {
        builder.ToTable("staff_sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(s => s.StaffId).HasColumnName("staff_id");
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.Property(s => s.LastSeenAt).HasColumnName("last_seen_at");
        builder.Property(s => s.AbsoluteExpiresAt).HasColumnName("absolute_expires_at");
        builder.Property(s => s.EndedAt).HasColumnName("ended_at");
        builder.Property(s => s.EndReason).HasColumnName("end_reason").HasMaxLength(32);
        builder.HasIndex(s => s.StaffId).HasDatabaseName("ix_staff_sessions_staff_id");

        // Housekeeping deletes the rows long past their absolute lifetime.
        builder.HasIndex(s => s.AbsoluteExpiresAt).HasDatabaseName("ix_staff_sessions_absolute_expires_at");
    }
}
