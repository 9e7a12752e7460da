using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Keys.Hashing;

internal sealed class KeyedHashSecretConfiguration : IEntityTypeConfiguration<KeyedHashSecret>
{
    public void Configure(EntityTypeBuilder<KeyedHashSecret> builder)
    {
        builder.ToTable("keyed_hash_secrets");

        // The primary key is what makes the first use of a purpose create one secret, whichever node gets there first.
        builder.HasKey(s => s.Purpose);
        builder.Property(s => s.Purpose).HasColumnName("purpose").HasMaxLength(64);
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.Property(s => s.KekId).HasColumnName("kek_id").HasMaxLength(256);
        builder.Property(s => s.KekAlgorithm).HasColumnName("kek_algorithm").HasMaxLength(32);
        builder.Property(s => s.WrappedSecret).HasColumnName("wrapped_secret").HasMaxLength(1024);

        // A KEK rotation re-wraps every secret of one key-encryption key.
        builder.HasIndex(s => s.KekId).HasDatabaseName("ix_keyed_hash_secrets_kek_id");
    }
}
