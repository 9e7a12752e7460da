using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Accounts;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("accounts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id");
        builder.Property(a => a.UserName).HasColumnName("pseudonym").HasMaxLength(64);
        builder.Property(a => a.NormalizedUserName).HasColumnName("normalized_pseudonym").HasMaxLength(64);
        builder.Property(a => a.PasswordHash).HasColumnName("password_hash").HasMaxLength(512);
        builder.Property(a => a.SecurityStamp).HasColumnName("security_stamp").HasMaxLength(64);
        builder.Property(a => a.ConcurrencyStamp).HasColumnName("concurrency_stamp").HasMaxLength(64).IsConcurrencyToken();
        builder.Property(a => a.TwoFactorEnabled).HasColumnName("two_factor_enabled");
        builder.Property(a => a.LockoutEnd).HasColumnName("lockout_end");
        builder.Property(a => a.LockoutEnabled).HasColumnName("lockout_enabled");
        builder.Property(a => a.AccessFailedCount).HasColumnName("access_failed_count");
        builder.Property(a => a.CreatedAt).HasColumnName("created_at");
        builder.Property(a => a.LastSignInAt).HasColumnName("last_sign_in_at");

        // No contact data is collected in the pseudonymous store: Identity's e-mail and phone columns do not exist.
        builder.Ignore(a => a.Email);
        builder.Ignore(a => a.NormalizedEmail);
        builder.Ignore(a => a.EmailConfirmed);
        builder.Ignore(a => a.PhoneNumber);
        builder.Ignore(a => a.PhoneNumberConfirmed);

        builder.HasIndex(a => a.NormalizedUserName).IsUnique().HasDatabaseName("ux_accounts_normalized_pseudonym");
        builder.HasIndex(a => a.LastSignInAt).HasDatabaseName("ix_accounts_last_sign_in_at");
    }
}
