using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Vault.Identity;

internal sealed class IdentityRecordConfiguration : IEntityTypeConfiguration<IdentityRecord>
{
    public void Configure(EntityTypeBuilder<IdentityRecord> builder)
    {
        builder.ToTable("identity_records", table =>
            table.HasCheckConstraint("ck_identity_records_status", "status IN ('PROV', 'VALI', 'RECUP', 'QUAL')"));
        builder.HasKey(r => r.SubjectLink);
        builder.Property(r => r.SubjectLink).HasColumnName("subject_link").HasMaxLength(64);
        builder.Property(r => r.Status).HasColumnName("status").HasMaxLength(5);
        builder.Property(r => r.KeyId).HasColumnName("key_id").HasMaxLength(256);
        builder.Property(r => r.WrappedDataKey).HasColumnName("wrapped_data_key").HasMaxLength(1024);
        builder.Property(r => r.Ciphertext).HasColumnName("ciphertext").HasMaxLength(65536);
        builder.Property(r => r.CreatedAt).HasColumnName("created_at");
        builder.Property(r => r.UpdatedAt).HasColumnName("updated_at");

        // Key rotation re-wraps every data key of one key-encryption key.
        builder.HasIndex(r => r.KeyId).HasDatabaseName("ix_identity_records_key_id");
    }
}
