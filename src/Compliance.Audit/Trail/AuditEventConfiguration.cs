using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Audit.Trail;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("audit_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id");
        builder.Property(e => e.EventId).HasColumnName("event_id");
        builder.Property(e => e.Name).HasColumnName("name").HasMaxLength(64);
        builder.Property(e => e.OccurredAt).HasColumnName("occurred_at");
        builder.Property(e => e.Actor).HasColumnName("actor").HasMaxLength(128);
        builder.Property(e => e.SubjectId).HasColumnName("subject_id");
        builder.Property(e => e.Details).HasColumnName("details").HasMaxLength(4000);

        // Reports read by period, by kind and by subject.
        builder.HasIndex(e => e.OccurredAt).HasDatabaseName("ix_audit_events_occurred_at");
        builder.HasIndex(e => new { e.EventId, e.OccurredAt }).HasDatabaseName("ix_audit_events_event_id_occurred_at");
        builder.HasIndex(e => e.SubjectId).HasDatabaseName("ix_audit_events_subject_id");
    }
}
