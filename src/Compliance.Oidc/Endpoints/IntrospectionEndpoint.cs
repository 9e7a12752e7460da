using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Endpoints;

/// <summary>
/// <c>POST /connect/introspect</c> (RFC 7662). A client learns only about tokens issued to it: any other token,
/// like an unknown, expired or revoked one, is simply <c>{"active": false}</c>.
/// </summary>
internal static class IntrospectionEndpoint
{
    public const string Path = "/connect/introspect";

    public static void MapIntrospectionEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost(Path, HandleAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Token).DisableAntiforgery();

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        AccessTokenValidator accessTokens,
        ComplianceDbContext db,
        IPairwiseSubjects subjects,
        IOptions<OidcOptions> options,
        TimeProvider time)
    {
        try
        {
            var parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: false, context.RequestAborted);
            var client = await authenticator.AuthenticateAsync(context.Request, parameters, Path, context.RequestAborted);
            var token = parameters["token"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "token is missing.");
            var inactive = new Dictionary<string, object> { ["active"] = false };

            if (token.Count(c => c == '.') == 2)
            {
                var access = await accessTokens.ValidateAsync(token, context.RequestAborted);
                if (access is null || access.ClientId != client.ClientId)
                {
                    return OAuthResults.Json(inactive);
                }

                return OAuthResults.Json(new Dictionary<string, object>
                {
                    ["active"] = true,
                    ["token_type"] = "Bearer",
                    ["scope"] = access.Scope,
                    ["client_id"] = access.ClientId,
                    ["sub"] = access.Subject,
                    ["iss"] = options.Value.IssuerUri,
                    ["aud"] = options.Value.IssuerUri,
                    ["jti"] = access.TokenId,
                    ["exp"] = new DateTimeOffset(access.Token.ValidTo, TimeSpan.Zero).ToUnixTimeSeconds(),
                    ["iat"] = new DateTimeOffset(access.Token.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds(),
                });
            }

            var hash = TokenHashes.Of(token);
            var refresh = await db.Set<RefreshToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, context.RequestAborted);
            var now = time.GetUtcNow();
            if (refresh is null || refresh.ClientId != client.ClientId || refresh.ConsumedAt is not null || refresh.RevokedAt is not null
                || refresh.ExpiresAt <= now || refresh.AbsoluteExpiresAt <= now)
            {
                return OAuthResults.Json(inactive);
            }

            return OAuthResults.Json(new Dictionary<string, object>
            {
                ["active"] = true,
                ["token_type"] = "refresh_token",
                ["scope"] = refresh.Scope,
                ["client_id"] = refresh.ClientId,
                ["sub"] = await subjects.SubjectForAsync(refresh.SubjectId, client.Sector, context.RequestAborted),
                ["iss"] = options.Value.IssuerUri,
                ["exp"] = refresh.ExpiresAt.ToUnixTimeSeconds(),
                ["iat"] = refresh.CreatedAt.ToUnixTimeSeconds(),
            });
        }
        catch (OAuthException e)
        {
            return OAuthResults.Error(e.Error, e.Description);
        }
    }
}
