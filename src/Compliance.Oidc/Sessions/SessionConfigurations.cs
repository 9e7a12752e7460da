using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Sessions;

internal sealed class BrowserSessionConfiguration : IEntityTypeConfiguration<BrowserSession>
{
    public void Configure(EntityTypeBuilder<BrowserSession> builder)
    {
        builder.ToTable("oidc_sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(s => s.SubjectId).HasColumnName("subject_id");
        builder.Property(s => s.AuthTime).HasColumnName("auth_time");
        builder.Property(s => s.Acr).HasColumnName("acr").HasMaxLength(32);
        builder.Property(s => s.Amr).HasColumnName("amr").HasMaxLength(100);
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.Property(s => s.LastSeenAt).HasColumnName("last_seen_at");
        builder.Property(s => s.AbsoluteExpiresAt).HasColumnName("absolute_expires_at");
        builder.Property(s => s.EndedAt).HasColumnName("ended_at");
        builder.Property(s => s.EndReason).HasColumnName("end_reason").HasMaxLength(32);
        builder.HasIndex(s => s.SubjectId).HasDatabaseName("ix_oidc_sessions_subject_id");
        builder.HasIndex(s => s.AbsoluteExpiresAt).HasDatabaseName("ix_oidc_sessions_absolute_expires_at");
        builder.HasIndex(s => s.LastSeenAt).HasDatabaseName("ix_oidc_sessions_last_seen_at");
    }
}

internal sealed class SessionClientConfiguration : IEntityTypeConfiguration<SessionClient>
{
    public void Configure(EntityTypeBuilder<SessionClient> builder)
    {
        builder.ToTable("oidc_session_clients");
        builder.HasKey(s => new { s.SessionId, s.ClientId });
        builder.Property(s => s.SessionId).HasColumnName("session_id").HasMaxLength(64);
        builder.Property(s => s.ClientId).HasColumnName("client_id").HasMaxLength(100);
    }
}

internal sealed class LogoutDeliveryConfiguration : IEntityTypeConfiguration<LogoutDelivery>
{
    public void Configure(EntityTypeBuilder<LogoutDelivery> builder)
    {
        builder.ToTable("oidc_logout_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasColumnName("id");
        builder.Property(d => d.SessionId).HasColumnName("session_id").HasMaxLength(64);
        builder.Property(d => d.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(d => d.SubjectId).HasColumnName("subject_id");
        builder.Property(d => d.CreatedAt).HasColumnName("created_at");
        builder.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
        builder.Property(d => d.Attempts).HasColumnName("attempts");
        builder.Property(d => d.DeliveredAt).HasColumnName("delivered_at");
        builder.Property(d => d.FailedAt).HasColumnName("failed_at");
        builder.Property(d => d.LastError).HasColumnName("last_error").HasMaxLength(200);
        builder.HasIndex(d => d.NextAttemptAt).HasDatabaseName("ix_oidc_logout_deliveries_next_attempt_at");
    }
}
