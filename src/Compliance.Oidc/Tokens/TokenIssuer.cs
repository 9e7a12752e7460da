using System.Security.Cryptography;
using Compliance.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Tokens;

/// <summary>Who a token is for, as the token endpoint establishes it.</summary>
internal sealed record TokenSubject(
    string Subject,
    Guid? SubjectId,
    DateTimeOffset? AuthTime,
    string? Acr,
    IReadOnlyList<string> Amr,
    string? SessionId);

/// <summary>Signs ID tokens and RFC 9068 access tokens with the current key from key custody.</summary>
internal sealed class TokenIssuer(ISigningKeys keys, IOptions<OidcOptions> options, TimeProvider time)
{
    public const string AccessTokenType = "at+jwt";
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async ValueTask<(string Token, string TokenId, DateTimeOffset ExpiresAt)> CreateAccessTokenAsync(
        string clientId, TokenSubject subject, string scope, int lifetimeSeconds, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expires = now.AddSeconds(lifetimeSeconds);
        var tokenId = NewTokenId();
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["sub"] = subject.Subject,
            ["client_id"] = clientId,
            ["jti"] = tokenId,
        };
        if (scope.Length > 0)
        {
            claims["scope"] = scope;
        }

        AddAuthentication(claims, subject);
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.IssuerUri,
            Audience = options.Value.IssuerUri,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            TokenType = AccessTokenType,
            SigningCredentials = await keys.GetSigningCredentialsAsync("ES256", cancellationToken),
        });
        return (token, tokenId, expires);
    }

    public async ValueTask<string> CreateIdTokenAsync(
        string clientId, string algorithm, TokenSubject subject, string? nonce, int lifetimeSeconds, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { ["sub"] = subject.Subject };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        AddAuthentication(claims, subject);
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.IssuerUri,
            Audience = clientId,
            IssuedAt = now.UtcDateTime,
            Expires = now.AddSeconds(lifetimeSeconds).UtcDateTime,
            Claims = claims,
            TokenType = "JWT",
            SigningCredentials = await keys.GetSigningCredentialsAsync(algorithm, cancellationToken),
        });
    }

    /// <summary>A random opaque value: codes, refresh tokens, token ids, request handles.</summary>
    public static string NewOpaque() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static string NewTokenId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));

    private static void AddAuthentication(Dictionary<string, object> claims, TokenSubject subject)
    {
        if (subject.AuthTime is { } authTime)
        {
            claims["auth_time"] = authTime.ToUnixTimeSeconds();
        }

        if (subject.Acr is not null)
        {
            claims["acr"] = subject.Acr;
        }

        if (subject.Amr.Count > 0)
        {
            claims["amr"] = subject.Amr.ToArray();
        }

        if (subject.SessionId is not null)
        {
            claims["sid"] = subject.SessionId;
        }
    }
}
