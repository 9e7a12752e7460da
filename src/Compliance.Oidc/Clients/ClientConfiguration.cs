using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Compliance.Oidc.Clients;

internal sealed class ClientConfiguration : IEntityTypeConfiguration<Client>
{
    public void Configure(EntityTypeBuilder<Client> builder)
    {
        builder.ToTable("oidc_clients");
        builder.HasKey(c => c.ClientId);
        builder.Property(c => c.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(c => c.DisplayName).HasColumnName("display_name").HasMaxLength(200);
        builder.Property(c => c.Type).HasColumnName("type").HasMaxLength(16);
        builder.Property(c => c.TokenEndpointAuthMethod).HasColumnName("token_endpoint_auth_method").HasMaxLength(32);
        builder.Property(c => c.SecretHash).HasColumnName("secret_hash").HasMaxLength(64);
        builder.Property(c => c.PreviousSecretHash).HasColumnName("previous_secret_hash").HasMaxLength(64);
        builder.Property(c => c.PreviousSecretExpiresAt).HasColumnName("previous_secret_expires_at");
        builder.Property(c => c.Jwks).HasColumnName("jwks").HasMaxLength(16000);
        builder.Property(c => c.JwksUri).HasColumnName("jwks_uri").HasMaxLength(2000);
        builder.Property(c => c.RedirectUris).HasColumnName("redirect_uris").HasMaxLength(8000);
        builder.Property(c => c.PostLogoutRedirectUris).HasColumnName("post_logout_redirect_uris").HasMaxLength(8000);
        builder.Property(c => c.AllowedScopes).HasColumnName("allowed_scopes").HasMaxLength(1000);
        builder.Property(c => c.AllowedGrantTypes).HasColumnName("allowed_grant_types").HasMaxLength(200);
        builder.Property(c => c.SectorIdentifierUri).HasColumnName("sector_identifier_uri").HasMaxLength(2000);
        builder.Property(c => c.Sector).HasColumnName("sector").HasMaxLength(255);
        builder.Property(c => c.IdTokenSignedResponseAlg).HasColumnName("id_token_signed_response_alg").HasMaxLength(16);
        builder.Property(c => c.AccessTokenLifetimeSeconds).HasColumnName("access_token_lifetime_seconds");
        builder.Property(c => c.IdTokenLifetimeSeconds).HasColumnName("id_token_lifetime_seconds");
        builder.Property(c => c.RefreshTokenSlidingLifetimeSeconds).HasColumnName("refresh_token_sliding_lifetime_seconds");
        builder.Property(c => c.RefreshTokenAbsoluteLifetimeSeconds).HasColumnName("refresh_token_absolute_lifetime_seconds");
        builder.Property(c => c.RequireConsent).HasColumnName("require_consent");
        builder.Property(c => c.RequirePushedAuthorizationRequests).HasColumnName("require_pushed_authorization_requests");
        builder.Property(c => c.MinimumAcr).HasColumnName("minimum_acr").HasMaxLength(32);
        builder.Property(c => c.BackchannelLogoutUri).HasColumnName("backchannel_logout_uri").HasMaxLength(2000);
        builder.Property(c => c.ControllerName).HasColumnName("controller_name").HasMaxLength(200);
        builder.Property(c => c.DpoContact).HasColumnName("dpo_contact").HasMaxLength(320);
        builder.Property(c => c.NoticeUrl).HasColumnName("notice_url").HasMaxLength(2000);
        builder.Property(c => c.Kind).HasColumnName("kind").HasMaxLength(16).HasDefaultValue(ClientKinds.Partner);
        builder.Property(c => c.WebhookUrl).HasColumnName("webhook_url").HasMaxLength(2000);
        builder.Property(c => c.CreatedAt).HasColumnName("created_at");
        builder.Property(c => c.RemovedAt).HasColumnName("removed_at");

        // Registration checks whether a sector is already taken.
        builder.HasIndex(c => c.Sector).HasDatabaseName("ix_oidc_clients_sector");
    }
}
