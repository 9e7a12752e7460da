using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Oidc.Grants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Tokens;

/// <summary>An access token that is ours, correctly signed, unexpired, and not revoked.</summary>
internal sealed record ValidAccessToken(JsonWebToken Token, string TokenId, string ClientId, string Subject, Guid? SubjectId, string Scope, bool IsMachineToken);

/// <summary>Validates our own RFC 9068 access tokens, then checks their record for revocation.</summary>
internal sealed class AccessTokenValidator(ISigningKeys keys, ComplianceDbContext db, Clients.ClientRegistry clients, IOptions<OidcOptions> options, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>A client-credentials token: its subject is its client, and no sign-in session stands behind it.</summary>
    public static bool IsMachineToken(JsonWebToken token, string clientId) =>
        token.Subject == clientId && !token.TryGetPayloadValue<string>("sid", out _) && !token.TryGetPayloadValue<long>("auth_time", out _);

    public async Task<ValidAccessToken?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > 8192)
        {
            return null;
        }

        var issuer = options.Value.IssuerUri;
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = issuer,
            IssuerSigningKeys = await keys.GetValidationKeysAsync(cancellationToken),
            ValidTypes = [TokenIssuer.AccessTokenType],
            ValidAlgorithms = ["ES256", "RS256"],
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } e && e > time.GetUtcNow().UtcDateTime && (notBefore is null || notBefore <= time.GetUtcNow().UtcDateTime.AddSeconds(5)),
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt
            || !jwt.TryGetPayloadValue<string>("jti", out var tokenId)
            || !jwt.TryGetPayloadValue<string>("client_id", out var clientId))
        {
            return null;
        }

        // A user-bound token must have its record (so that revocation reaches it); a machine token (client
        // credentials: sub is the client, no session) has one only once it was revoked.
        var record = await db.Set<IssuedToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenId == tokenId, cancellationToken);
        var machine = IsMachineToken(jwt, clientId);
        if ((record is null && !machine) || record?.RevokedAt is not null || (record is not null && record.ClientId != clientId)
            || await clients.FindAsync(clientId, cancellationToken) is null)
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>("scope", out var scope);
        return new ValidAccessToken(jwt, tokenId, clientId, jwt.Subject, record?.SubjectId, scope ?? "", machine);
    }
}
