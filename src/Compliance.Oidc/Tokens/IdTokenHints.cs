using Compliance.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Tokens;

/// <summary>
/// Reads an <c>id_token_hint</c> (authorization and end-session): signed by this provider, expiry ignored (OpenID
/// Connect allows an expired hint), and an ID token only: an access token or a logout token names no client.
/// </summary>
internal sealed class IdTokenHints(ISigningKeys keys, IOptions<OidcOptions> options)
{
    public const int MaxLength = 8192;
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>
    /// <c>Signed</c>: this provider signed it. <c>IdToken</c>: it is an ID token with one audience (and that audience
    /// is <paramref name="audience"/> when given), else null.
    /// </summary>
    public async Task<(bool Signed, JsonWebToken? IdToken)> ReadAsync(string hint, string? audience, CancellationToken cancellationToken)
    {
        if (hint.Length > MaxLength)
        {
            return (false, null);
        }

        var result = await Handler.ValidateTokenAsync(hint, new TokenValidationParameters
        {
            ValidIssuer = options.Value.IssuerUri,
            ValidateAudience = false,
            ValidateLifetime = false,
            IssuerSigningKeys = await keys.GetValidationKeysAsync(cancellationToken),
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken token)
        {
            return (false, null);
        }

        var isIdToken = token.Typ == "JWT" && token.Audiences.Count() == 1 && token.Subject is { Length: > 0 }
            && (audience is null || token.Audiences.Single() == audience);
        return (true, isIdToken ? token : null);
    }
}
