using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Keys.DataProtection;

/// <summary>
/// One key of ASP.NET Core Data Protection (session cookies, antiforgery and interaction tokens), shared by every
/// node through the compliance store and kept encrypted under the key-encryption key.
/// </summary>
public sealed class DataProtectionKey
{
    public long Id { get; set; }

    public required string FriendlyName { get; set; }

    /// <summary>The key's XML, whose secret part is wrapped by the KEK.</summary>
    public required string Xml { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("data_protection_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasColumnName("id");
        builder.Property(k => k.FriendlyName).HasColumnName("friendly_name").HasMaxLength(100);
        builder.Property(k => k.Xml).HasColumnName("xml").HasMaxLength(32000);
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
    }
}
