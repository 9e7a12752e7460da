using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Keys.Attestation;

internal sealed class AttestationKeyConfiguration : IEntityTypeConfiguration<AttestationKeyRecord>
{
    public void Configure(EntityTypeBuilder<AttestationKeyRecord> builder)
    {
        builder.ToTable("attestation_keys", table =>
        {
            table.HasCheckConstraint("ck_attestation_keys_algorithm", "algorithm = 'ES256'");

            // The current key always has its private half; a destroyed one leaves no KEK id behind.
            table.HasCheckConstraint("ck_attestation_keys_private_key",
                "(retired_at IS NOT NULL OR wrapped_private_key IS NOT NULL) AND ((wrapped_private_key IS NULL) = (kek_id IS NULL))");
        });
        builder.HasKey(k => k.KeyId);
        builder.Property(k => k.KeyId).HasColumnName("key_id").HasMaxLength(64);
        builder.Property(k => k.Algorithm).HasColumnName("algorithm").HasMaxLength(8);
        builder.Property(k => k.PublicJwk).HasColumnName("public_jwk").HasMaxLength(1024);
        builder.Property(k => k.ValidFrom).HasColumnName("valid_from");
        builder.Property(k => k.RetiredAt).HasColumnName("retired_at");
        builder.Property(k => k.CompromisedFrom).HasColumnName("compromised_from");
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
        builder.Property(k => k.KekId).HasColumnName("kek_id").HasMaxLength(256);
        builder.Property(k => k.KekAlgorithm).HasColumnName("kek_algorithm").HasMaxLength(32);
        builder.Property(k => k.WrappedPrivateKey).HasColumnName("wrapped_private_key").HasMaxLength(8192);

        // At most one current key: the algorithm is always ES256, so two rows without retired_at collide. This is
        // what makes two nodes creating the first key, or rotating, at once end with one current key.
        builder.HasIndex(k => k.Algorithm).IsUnique().HasFilter("retired_at IS NULL").HasDatabaseName("ux_attestation_keys_current");

        // A KEK rotation re-wraps every key of one key-encryption key.
        builder.HasIndex(k => k.KekId).HasDatabaseName("ix_attestation_keys_kek_id");
    }
}
