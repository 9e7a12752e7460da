using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Jobs.Notices;

/// <summary>
/// A row of <c>notices</c>: the account (internal subject id), the kind and its structured facts, and the delivery's
/// state. No civil identity and no free text: see <see cref="NoticeFacts"/>.
/// </summary>
internal sealed class NoticeRecord
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public NoticeKind Kind { get; set; }

    public string? ClientId { get; set; }

    public Guid? RequestId { get; set; }

    public DateTimeOffset? OccurredAt { get; set; }

    public DateTimeOffset? DeadlineAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it is to be delivered: its creation, or a later time.</summary>
    public DateTimeOffset DueAt { get; set; }

    /// <summary>When it became visible; <c>null</c> while it waits for its delivery.</summary>
    public DateTimeOffset? DeliveredAt { get; set; }

    public DateTimeOffset? ReadAt { get; set; }

    /// <summary>Until when a job holds its delivery; the reconciler enqueues it again after that.</summary>
    public DateTimeOffset? EnqueuedUntil { get; set; }

    public NoticeFacts Facts => NoticeFacts.Stored(Kind, ClientId, RequestId, OccurredAt, DeadlineAt);
}

internal sealed class NoticeRecordConfiguration : IEntityTypeConfiguration<NoticeRecord>
{
    public void Configure(EntityTypeBuilder<NoticeRecord> builder)
    {
        builder.ToTable("notices");
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Id).HasColumnName("id");
        builder.Property(n => n.AccountId).HasColumnName("account_id");
        builder.Property(n => n.Kind).HasColumnName("kind").HasMaxLength(32)
            .HasConversion(kind => NoticeKinds.Name(kind), name => NoticeKinds.Parse(name));
        builder.Property(n => n.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(n => n.RequestId).HasColumnName("request_id");
        builder.Property(n => n.OccurredAt).HasColumnName("occurred_at");
        builder.Property(n => n.DeadlineAt).HasColumnName("deadline_at");
        builder.Property(n => n.CreatedAt).HasColumnName("created_at");
        builder.Property(n => n.DueAt).HasColumnName("due_at");
        builder.Property(n => n.DeliveredAt).HasColumnName("delivered_at");
        builder.Property(n => n.ReadAt).HasColumnName("read_at");
        builder.Property(n => n.EnqueuedUntil).HasColumnName("enqueued_until");
        builder.Ignore(n => n.Facts);

        // The patient's list and unread count; and the reconciler's due items, which stay few while delivered rows pile up.
        builder.HasIndex(n => new { n.AccountId, n.DeliveredAt }).HasDatabaseName("ix_notices_account_id_delivered_at");
        builder.HasIndex(n => n.DueAt).HasDatabaseName("ix_notices_due_at").HasFilter("delivered_at IS NULL");
    }
}

internal sealed class NoticesModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder) => modelBuilder.ApplyConfiguration(new NoticeRecordConfiguration());
}
