using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>
/// A row of <c>account_totp</c>: an account's authenticator-app key, sealed by Data Protection (whose keys the
/// key-encryption key wraps), and the last time step a code was accepted for, which makes each code single use
/// across nodes. Unconfirmed until a first code proves the app holds the key.
/// </summary>
internal sealed class TotpFactor
{
    public Guid AccountId { get; set; }

    public string ProtectedSecret { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ConfirmedAt { get; set; }

    /// <summary>The time step of the last accepted code; a code of this step or an earlier one is refused.</summary>
    public long LastTimeStep { get; set; }
}

internal sealed class TotpFactorConfiguration : IEntityTypeConfiguration<TotpFactor>
{
    public void Configure(EntityTypeBuilder<TotpFactor> builder)
    {
        builder.ToTable("account_totp");
        builder.HasKey(f => f.AccountId);
        builder.Property(f => f.AccountId).HasColumnName("account_id");
        builder.Property(f => f.ProtectedSecret).HasColumnName("protected_secret").HasMaxLength(1000);
        builder.Property(f => f.CreatedAt).HasColumnName("created_at");
        builder.Property(f => f.ConfirmedAt).HasColumnName("confirmed_at");
        builder.Property(f => f.LastTimeStep).HasColumnName("last_time_step");
    }
}
