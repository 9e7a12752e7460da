using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Consent.Outbox;

/// <summary>
/// A row of <c>consent_outbox</c>: one event a partner must learn of, written in the ledger's transaction, and the
/// state of its webhook delivery. It names the partner's pairwise <c>sub</c>, never the internal subject id, and
/// holds no response body (<see cref="LastError"/> is a short code).
/// </summary>
internal sealed class OutboxEvent
{
    /// <summary>The ledger event's id: the SET's <c>jti</c>, which the partner de-duplicates on.</summary>
    public Guid EventId { get; set; }

    public required string ClientId { get; set; }

    /// <summary>One of <see cref="OutboxEventTypes"/>.</summary>
    public required string EventType { get; set; }

    /// <summary>The partner's pairwise <c>sub</c> of the patient.</summary>
    public required string Subject { get; set; }

    public required string PurposeId { get; set; }

    /// <summary>The leaf index of the event: the feed's cursor, gapless and in commit order.</summary>
    public long LeafIndex { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the next webhook attempt is due; null when the partner had no webhook (it pulls).</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>When failing attempts stop: 72 hours after the event, or after an operator's retry.</summary>
    public DateTimeOffset GiveUpAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>Until when a job holds the delivery; the reconciler enqueues it again after that.</summary>
    public DateTimeOffset? EnqueuedUntil { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public DateTimeOffset? FailedAt { get; set; }

    /// <summary>Why the last attempt failed: <c>http_503</c>, <c>timeout</c>, <c>refused_address</c>…</summary>
    public string? LastError { get; set; }
}

internal sealed class OutboxEventConfiguration : IEntityTypeConfiguration<OutboxEvent>
{
    public void Configure(EntityTypeBuilder<OutboxEvent> builder)
    {
        builder.ToTable("consent_outbox");
        builder.HasKey(e => e.EventId);
        builder.Property(e => e.EventId).HasColumnName("event_id");
        builder.Property(e => e.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(e => e.EventType).HasColumnName("event_type").HasMaxLength(64);
        builder.Property(e => e.Subject).HasColumnName("subject").HasMaxLength(100);
        builder.Property(e => e.PurposeId).HasColumnName("purpose_id").HasMaxLength(64);
        builder.Property(e => e.LeafIndex).HasColumnName("leaf_index");
        builder.Property(e => e.OccurredAt).HasColumnName("occurred_at");
        builder.Property(e => e.CreatedAt).HasColumnName("created_at");
        builder.Property(e => e.DueAt).HasColumnName("due_at");
        builder.Property(e => e.GiveUpAt).HasColumnName("give_up_at");
        builder.Property(e => e.Attempts).HasColumnName("attempts");
        builder.Property(e => e.EnqueuedUntil).HasColumnName("enqueued_until");
        builder.Property(e => e.DeliveredAt).HasColumnName("delivered_at");
        builder.Property(e => e.FailedAt).HasColumnName("failed_at");
        builder.Property(e => e.LastError).HasColumnName("last_error").HasMaxLength(32);

        // The partner's pull; the reconciler's due deliveries; the operators' failed list.
        builder.HasIndex(e => new { e.ClientId, e.LeafIndex }).IsUnique().HasDatabaseName("ux_consent_outbox_client_id_leaf_index");
        builder.HasIndex(e => e.DueAt).HasDatabaseName("ix_consent_outbox_due_at").HasFilter("delivered_at IS NULL");
        builder.HasIndex(e => e.FailedAt).HasDatabaseName("ix_consent_outbox_failed_at");
    }
}

internal sealed class OutboxModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder) => modelBuilder.ApplyConfiguration(new OutboxEventConfiguration());
}
