using Compliance.Oidc.Subjects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Grants;

internal sealed class ConsentGrantConfiguration : IEntityTypeConfiguration<ConsentGrant>
{
    public void Configure(EntityTypeBuilder<ConsentGrant> builder)
    {
        builder.ToTable("oidc_consent_grants");
        builder.HasKey(g => g.Id);
        builder.Property(g => g.Id).HasColumnName("id");
        builder.Property(g => g.SubjectId).HasColumnName("subject_id");
        builder.Property(g => g.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(g => g.Scopes).HasColumnName("scopes").HasMaxLength(1000);
        builder.Property(g => g.CreatedAt).HasColumnName("created_at");
        builder.Property(g => g.UpdatedAt).HasColumnName("updated_at");
        builder.Property(g => g.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(g => new { g.SubjectId, g.ClientId }).HasDatabaseName("ix_oidc_consent_grants_subject_client");
    }
}

internal sealed class AuthorizationCodeConfiguration : IEntityTypeConfiguration<AuthorizationCode>
{
    public void Configure(EntityTypeBuilder<AuthorizationCode> builder)
    {
        builder.ToTable("oidc_authorization_codes");
        builder.HasKey(c => c.CodeHash);
        builder.Property(c => c.CodeHash).HasColumnName("code_hash").HasMaxLength(64);
        builder.Property(c => c.IssuanceId).HasColumnName("issuance_id");
        builder.Property(c => c.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(c => c.SubjectId).HasColumnName("subject_id");
        builder.Property(c => c.RedirectUri).HasColumnName("redirect_uri").HasMaxLength(2000);
        builder.Property(c => c.Scope).HasColumnName("scope").HasMaxLength(1000);
        builder.Property(c => c.Nonce).HasColumnName("nonce").HasMaxLength(512);
        builder.Property(c => c.CodeChallenge).HasColumnName("code_challenge").HasMaxLength(128);
        builder.Property(c => c.SessionId).HasColumnName("session_id").HasMaxLength(64);
        builder.Property(c => c.AuthTime).HasColumnName("auth_time");
        builder.Property(c => c.Acr).HasColumnName("acr").HasMaxLength(32);
        builder.Property(c => c.Amr).HasColumnName("amr").HasMaxLength(100);
        builder.Property(c => c.CreatedAt).HasColumnName("created_at");
        builder.Property(c => c.ExpiresAt).HasColumnName("expires_at");
        builder.Property(c => c.ConsumedAt).HasColumnName("consumed_at");
        builder.HasIndex(c => new { c.SubjectId, c.ClientId }).HasDatabaseName("ix_oidc_authorization_codes_subject_client");
        builder.HasIndex(c => c.ExpiresAt).HasDatabaseName("ix_oidc_authorization_codes_expires_at");
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("oidc_refresh_tokens");
        builder.HasKey(t => t.TokenHash);
        builder.Property(t => t.TokenHash).HasColumnName("token_hash").HasMaxLength(64);
        builder.Property(t => t.FamilyId).HasColumnName("family_id");
        builder.Property(t => t.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(t => t.SubjectId).HasColumnName("subject_id");
        builder.Property(t => t.Scope).HasColumnName("scope").HasMaxLength(1000);
        builder.Property(t => t.SessionId).HasColumnName("session_id").HasMaxLength(64);
        builder.Property(t => t.AuthTime).HasColumnName("auth_time");
        builder.Property(t => t.Acr).HasColumnName("acr").HasMaxLength(32);
        builder.Property(t => t.Amr).HasColumnName("amr").HasMaxLength(100);
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        builder.Property(t => t.AbsoluteExpiresAt).HasColumnName("absolute_expires_at");
        builder.Property(t => t.ConsumedAt).HasColumnName("consumed_at");
        builder.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(t => t.FamilyId).HasDatabaseName("ix_oidc_refresh_tokens_family_id");
        builder.HasIndex(t => new { t.SubjectId, t.ClientId }).HasDatabaseName("ix_oidc_refresh_tokens_subject_client");
        builder.HasIndex(t => t.AbsoluteExpiresAt).HasDatabaseName("ix_oidc_refresh_tokens_absolute_expires_at");
    }
}

internal sealed class IssuedTokenConfiguration : IEntityTypeConfiguration<IssuedToken>
{
    public void Configure(EntityTypeBuilder<IssuedToken> builder)
    {
        builder.ToTable("oidc_issued_tokens");
        builder.HasKey(t => t.TokenId);
        builder.Property(t => t.TokenId).HasColumnName("token_id").HasMaxLength(64);
        builder.Property(t => t.FamilyId).HasColumnName("family_id");
        builder.Property(t => t.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(t => t.SubjectId).HasColumnName("subject_id");
        builder.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        builder.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(t => t.FamilyId).HasDatabaseName("ix_oidc_issued_tokens_family_id");
        builder.HasIndex(t => new { t.SubjectId, t.ClientId }).HasDatabaseName("ix_oidc_issued_tokens_subject_client");
        builder.HasIndex(t => t.ExpiresAt).HasDatabaseName("ix_oidc_issued_tokens_expires_at");
    }
}

internal sealed class PushedRequestConfiguration : IEntityTypeConfiguration<PushedRequest>
{
    public void Configure(EntityTypeBuilder<PushedRequest> builder)
    {
        builder.ToTable("oidc_pushed_requests");
        builder.HasKey(r => r.Handle);
        builder.Property(r => r.Handle).HasColumnName("handle").HasMaxLength(64);
        builder.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(r => r.Parameters).HasColumnName("parameters").HasMaxLength(16000);
        builder.Property(r => r.ExpiresAt).HasColumnName("expires_at");
        builder.Property(r => r.ConsumedAt).HasColumnName("consumed_at");
        builder.HasIndex(r => r.ExpiresAt).HasDatabaseName("ix_oidc_pushed_requests_expires_at");
    }
}

internal sealed class PairwiseSubjectConfiguration : IEntityTypeConfiguration<PairwiseSubject>
{
    public void Configure(EntityTypeBuilder<PairwiseSubject> builder)
    {
        builder.ToTable("oidc_pairwise_subjects");
        builder.HasKey(p => new { p.Sector, p.Subject });
        builder.Property(p => p.Sector).HasColumnName("sector").HasMaxLength(255);
        builder.Property(p => p.Subject).HasColumnName("subject").HasMaxLength(64);
        builder.Property(p => p.SubjectId).HasColumnName("subject_id");
        builder.Property(p => p.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(p => p.SubjectId).HasDatabaseName("ix_oidc_pairwise_subjects_subject_id");
    }
}

internal sealed class UsedAssertionConfiguration : IEntityTypeConfiguration<UsedAssertion>
{
    public void Configure(EntityTypeBuilder<UsedAssertion> builder)
    {
        builder.ToTable("oidc_used_assertions");
        builder.HasKey(a => a.AssertionHash);
        builder.Property(a => a.AssertionHash).HasColumnName("assertion_hash").HasMaxLength(64);
        builder.Property(a => a.ExpiresAt).HasColumnName("expires_at");
        builder.HasIndex(a => a.ExpiresAt).HasDatabaseName("ix_oidc_used_assertions_expires_at");
    }
}

internal sealed class TokenFamilyConfiguration : IEntityTypeConfiguration<TokenFamily>
{
    public void Configure(EntityTypeBuilder<TokenFamily> builder)
    {
        builder.ToTable("oidc_token_families");
        builder.HasKey(f => f.FamilyId);
        builder.Property(f => f.FamilyId).HasColumnName("family_id");
        builder.Property(f => f.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(f => f.SubjectId).HasColumnName("subject_id");
        builder.Property(f => f.CreatedAt).HasColumnName("created_at");
        builder.Property(f => f.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(f => new { f.SubjectId, f.ClientId }).HasDatabaseName("ix_oidc_token_families_subject_client");
    }
}
