using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Keys.Signing;

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.ToTable("signing_keys", table =>
        {
            table.HasCheckConstraint("ck_signing_keys_algorithm", "algorithm IN ('ES256', 'RS256')");
            table.HasCheckConstraint("ck_signing_keys_generation", "generation >= 0");
        });
        builder.HasKey(k => k.KeyId);
        builder.Property(k => k.KeyId).HasColumnName("key_id").HasMaxLength(64);
        builder.Property(k => k.Algorithm).HasColumnName("algorithm").HasMaxLength(8);
        builder.Property(k => k.Generation).HasColumnName("generation");
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
        builder.Property(k => k.ActivatesAt).HasColumnName("activates_at");
        builder.Property(k => k.KekId).HasColumnName("kek_id").HasMaxLength(256);
        builder.Property(k => k.KekAlgorithm).HasColumnName("kek_algorithm").HasMaxLength(32);
        builder.Property(k => k.WrappedPrivateKey).HasColumnName("wrapped_private_key").HasMaxLength(8192);

        // The ring reads one algorithm's chain in generation order; uniqueness is what stops two nodes from both
        // adding a "next" (or a first "current") key.
        builder.HasIndex(k => new { k.Algorithm, k.Generation }).IsUnique().HasDatabaseName("ux_signing_keys_algorithm_generation");

        // A KEK rotation re-wraps every key of one key-encryption key.
        builder.HasIndex(k => k.KekId).HasDatabaseName("ix_signing_keys_kek_id");
    }
}
