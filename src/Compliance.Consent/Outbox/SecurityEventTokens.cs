using System.Globalization;
using Compliance.Keys;
using Compliance.Oidc;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The Security Event Token (RFC 8417) of an outbox row, signed with the token signing keys that the JWKS publishes:
/// header <c>typ: secevent+jwt</c>; claims <c>iss</c>, <c>aud</c> (the client id), <c>iat</c>, <c>jti</c> (the event
/// id, the same at every attempt), <c>sub_id</c> (RFC 9493, <c>opaque</c>: the pairwise sub) and one event with its
/// purpose and cursor. Nothing else about the patient.
/// </summary>
internal sealed class SecurityEventTokens(ISigningKeys keys, IOptions<OidcOptions> oidc, TimeProvider time)
{
    public const string TokenType = "secevent+jwt";
    public const string MediaType = "application/secevent+jwt";

    /// <summary>The algorithm of our tokens by default (ES256); the JWKS publishes its keys.</summary>
    public const string Algorithm = "ES256";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<string> CreateAsync(OutboxEvent row, CancellationToken cancellationToken)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = row.EventId.ToString("D", CultureInfo.InvariantCulture),
            ["sub_id"] = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = row.Subject },
            ["events"] = new Dictionary<string, object>
            {
                [OutboxEventTypes.Uri(row.EventType)] = new Dictionary<string, object> { ["purpose"] = row.PurposeId, ["cursor"] = row.LeafIndex },
            },
        };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = oidc.Value.IssuerUri,
            Audience = row.ClientId,
            IssuedAt = time.GetUtcNow().UtcDateTime,
            Claims = claims,
            TokenType = TokenType,
            SigningCredentials = await keys.GetSigningCredentialsAsync(Algorithm, cancellationToken),
        });
    }
}
