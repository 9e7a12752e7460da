using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Vault.Traces;

internal sealed class AccessTraceConfiguration : IEntityTypeConfiguration<AccessTrace>
{
    public void Configure(EntityTypeBuilder<AccessTrace> builder)
    {
        // A break-glass access without a justification must be impossible, not merely discouraged.
        builder.ToTable("access_traces", table =>
            table.HasCheckConstraint("ck_access_traces_break_glass_reason", "NOT break_glass OR reason IS NOT NULL"));
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasColumnName("id");
        builder.Property(t => t.SubjectLink).HasColumnName("subject_link").HasMaxLength(64);
        builder.Property(t => t.OccurredAt).HasColumnName("occurred_at");
        builder.Property(t => t.Actor).HasColumnName("actor").HasMaxLength(200);
        builder.Property(t => t.Action).HasColumnName("action").HasMaxLength(32);
        builder.Property(t => t.DataCategories).HasColumnName("data_categories").HasMaxLength(256);
        builder.Property(t => t.Reason).HasColumnName("reason").HasMaxLength(1000);
        builder.Property(t => t.BreakGlass).HasColumnName("break_glass");

        // The patient's "who saw my identity" page, and the retention job that purges by age.
        builder.HasIndex(t => new { t.SubjectLink, t.OccurredAt }).HasDatabaseName("ix_access_traces_subject_link_occurred_at");
        builder.HasIndex(t => t.OccurredAt).HasDatabaseName("ix_access_traces_occurred_at");
    }
}
