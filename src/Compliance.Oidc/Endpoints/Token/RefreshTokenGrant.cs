using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// <c>grant_type=refresh_token</c>: each refresh token is exchanged once for a new one (rotation). Presenting a used
/// one again means it leaked: the whole family is revoked (RFC 9700 §4.14.2).
/// </summary>
internal sealed class RefreshTokenGrant(
    ComplianceDbContext db,
    TokenResponses responses,
    GrantRevocation revocation,
    IConsentDecisions consents,
    TimeProvider time,
    ILogger<RefreshTokenGrant> logger)
{
    public async Task<Dictionary<string, object>> HandleAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        var token = parameters["refresh_token"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "refresh_token is missing.");
        var hash = TokenHashes.Of(token);
        var now = time.GetUtcNow();
        var claimed = await db.Set<RefreshToken>()
            .Where(t => t.TokenHash == hash && t.ClientId == client.ClientId && t.ConsumedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ConsumedAt, now), cancellationToken);
        var stored = await db.Set<RefreshToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (stored is null || stored.ClientId != client.ClientId)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "The refresh token is invalid.");
        }

        if (claimed == 0)
        {
            if (stored.RevokedAt is null)
            {
                var revoked = await revocation.RevokeFamilyAsync(stored.FamilyId, cancellationToken);
                OidcLog.RefreshReused(logger, client.ClientId, revoked);
            }

            throw new OAuthException(OAuthErrors.InvalidGrant, "The refresh token was already used or revoked; its family is revoked.");
        }

        if (stored.ExpiresAt <= now || stored.AbsoluteExpiresAt <= now)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "The refresh token has expired.");
        }

        var granted = stored.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var requested = parameters.List("scope");
        if (requested.Any(s => !granted.Contains(s, StringComparer.Ordinal)))
        {
            throw new OAuthException(OAuthErrors.InvalidScope, "A refresh cannot widen the scope.");
        }

        if (client.RequireConsent)
        {
            var allowed = await consents.AllowedScopesAsync(stored.SubjectId, client.ClientId, cancellationToken);
            if (!granted.All(allowed.Contains))
            {
                await revocation.RevokeFamilyAsync(stored.FamilyId, cancellationToken);
                throw new OAuthException(OAuthErrors.InvalidGrant, "The consent behind this refresh token was withdrawn.");
            }
        }

        var scope = requested.Count > 0 ? string.Join(' ', requested) : stored.Scope;
        var grant = new UserGrant(
            stored.SubjectId,
            scope,
            stored.SessionId,
            stored.AuthTime,
            stored.Acr,
            stored.Amr.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            stored.FamilyId,
            Nonce: null,
            RefreshAbsoluteExpiry: stored.AbsoluteExpiresAt);
        return await responses.ForUserAsync(client, grant, includeIdToken: true, cancellationToken);
    }
}
