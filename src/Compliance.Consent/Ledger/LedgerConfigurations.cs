using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Consent.Ledger;

internal sealed class ConsentLeafConfiguration : IEntityTypeConfiguration<ConsentLeaf>
{
    public void Configure(EntityTypeBuilder<ConsentLeaf> builder)
    {
        builder.ToTable("consent_leaves", table => table.HasCheckConstraint("ck_consent_leaves_leaf_index", "leaf_index >= 0"));
        builder.HasKey(l => l.LeafIndex);
        builder.Property(l => l.LeafIndex).HasColumnName("leaf_index").ValueGeneratedNever();
        builder.Property(l => l.EventId).HasColumnName("event_id");
        builder.Property(l => l.AppendedAt).HasColumnName("appended_at");
        builder.Property(l => l.PayloadCommitment).HasColumnName("payload_commitment").HasMaxLength(32);
        builder.Property(l => l.LeafHash).HasColumnName("leaf_hash").HasMaxLength(32);
        builder.Property(l => l.Seal).HasColumnName("seal").HasMaxLength(32);
        builder.HasIndex(l => l.EventId).IsUnique().HasDatabaseName("ux_consent_leaves_event_id");
    }
}

internal sealed class ConsentPayloadConfiguration : IEntityTypeConfiguration<ConsentPayload>
{
    public void Configure(EntityTypeBuilder<ConsentPayload> builder)
    {
        builder.ToTable("consent_payloads");
        builder.HasKey(p => p.EventId);
        builder.Property(p => p.EventId).HasColumnName("event_id");
        builder.Property(p => p.Payload).HasColumnName("payload").HasMaxLength(ConsentRecords.MaxPayloadBytes);
        builder.Property(p => p.Salt).HasColumnName("salt").HasMaxLength(32);
    }
}

internal sealed class ConsentCheckpointConfiguration : IEntityTypeConfiguration<ConsentCheckpoint>
{
    public void Configure(EntityTypeBuilder<ConsentCheckpoint> builder)
    {
        builder.ToTable("consent_checkpoints", table => table.HasCheckConstraint("ck_consent_checkpoints_tree_size", "tree_size > 0"));
        builder.HasKey(c => c.TreeSize);
        builder.Property(c => c.TreeSize).HasColumnName("tree_size").ValueGeneratedNever();
        builder.Property(c => c.RootHash).HasColumnName("root_hash").HasMaxLength(32);
        builder.Property(c => c.SignedAt).HasColumnName("signed_at");
        builder.Property(c => c.KeyId).HasColumnName("key_id").HasMaxLength(100);
        builder.Property(c => c.Jws).HasColumnName("jws").HasMaxLength(4000);
    }
}

internal sealed class ConsentSubjectEventConfiguration : IEntityTypeConfiguration<ConsentSubjectEvent>
{
    public void Configure(EntityTypeBuilder<ConsentSubjectEvent> builder)
    {
        builder.ToTable("consent_subject_events");
        builder.HasKey(e => e.EventId);
        builder.Property(e => e.EventId).HasColumnName("event_id");
        builder.Property(e => e.SubjectId).HasColumnName("subject_id");
        builder.Property(e => e.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(e => e.PurposeId).HasColumnName("purpose_id").HasMaxLength(64);
        builder.Property(e => e.State).HasColumnName("state").HasMaxLength(20)
            .HasConversion(s => ConsentStates.Name(s), s => ConsentStates.Parse(s));
        builder.Property(e => e.NoticeVersion).HasColumnName("notice_version").HasMaxLength(64);
        builder.Property(e => e.OccurredAt).HasColumnName("occurred_at");
        builder.Property(e => e.LeafIndex).HasColumnName("leaf_index");
        builder.HasIndex(e => e.SubjectId).HasDatabaseName("ix_consent_subject_events_subject_id");
    }
}

internal sealed class ConsentStandingConfiguration : IEntityTypeConfiguration<ConsentStanding>
{
    public void Configure(EntityTypeBuilder<ConsentStanding> builder)
    {
        builder.ToTable("consent_states");
        builder.HasKey(s => new { s.SubjectId, s.ClientId, s.PurposeId });
        builder.Property(s => s.SubjectId).HasColumnName("subject_id");
        builder.Property(s => s.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(s => s.PurposeId).HasColumnName("purpose_id").HasMaxLength(64);
        builder.Property(s => s.State).HasColumnName("state").HasMaxLength(20)
            .HasConversion(s => ConsentStates.Name(s), s => ConsentStates.Parse(s));
        builder.Property(s => s.EventId).HasColumnName("event_id");
        builder.Property(s => s.NoticeVersion).HasColumnName("notice_version").HasMaxLength(64);
        builder.Property(s => s.OccurredAt).HasColumnName("occurred_at");
        builder.Property(s => s.ExpiresAt).HasColumnName("expires_at");
        builder.HasIndex(s => s.ExpiresAt).HasDatabaseName("ix_consent_states_expires_at");
        // The lifecycle job's invalidation sweep: a purpose's consents given under superseded notice versions.
        builder.HasIndex(s => new { s.PurposeId, s.NoticeVersion }).HasDatabaseName("ix_consent_states_purpose_id_notice_version");
    }
}

internal sealed class ConsentPartnerRequestConfiguration : IEntityTypeConfiguration<ConsentPartnerRequest>
{
    public void Configure(EntityTypeBuilder<ConsentPartnerRequest> builder)
    {
        builder.ToTable("consent_partner_requests");
        builder.HasKey(r => new { r.ClientId, r.IdempotencyKey });
        builder.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(r => r.IdempotencyKey).HasColumnName("idempotency_key").HasMaxLength(100);
        builder.Property(r => r.RequestHash).HasColumnName("request_sha256");
        builder.Property(r => r.EventId).HasColumnName("event_id");
        builder.Property(r => r.CreatedAt).HasColumnName("created_at");
    }
}

internal sealed class LedgerModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new ConsentLeafConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentPayloadConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentPartnerRequestConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentCheckpointConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentSubjectEventConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentStandingConfiguration());
    }
}
