using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Endpoints;

/// <summary>
/// <c>POST /connect/revoke</c> (RFC 7009). Revoking a refresh token revokes its whole family, access tokens included.
/// A token that is unknown or not the client's gets the same 200 as a revoked one: nothing leaks.
/// </summary>
internal static class RevocationEndpoint
{
    public const string Path = "/connect/revoke";

    public static void MapRevocationEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost(Path, HandleAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Token).DisableAntiforgery();

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        AccessTokenValidator accessTokens,
        GrantRevocation revocation,
        ComplianceDbContext db,
        TimeProvider time)
    {
        try
        {
            var parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: false, context.RequestAborted);
            var client = await authenticator.AuthenticateAsync(context.Request, parameters, Path, context.RequestAborted);
            var token = parameters["token"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "token is missing.");
            if (token.Count(c => c == '.') == 2)
            {
                var access = await accessTokens.ValidateAsync(token, context.RequestAborted);
                if (access is not null && access.ClientId == client.ClientId)
                {
                    var now = time.GetUtcNow();
                    var updated = await db.Set<IssuedToken>().Where(t => t.TokenId == access.TokenId && t.RevokedAt == null)
                        .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), context.RequestAborted);
                    if (updated == 0 && access.IsMachineToken)
                    {
                        // Machine tokens are not recorded when issued; revoking one records it, revoked, until it expires.
                        db.Add(new IssuedToken
                        {
                            TokenId = access.TokenId,
                            ClientId = access.ClientId,
                            ExpiresAt = new DateTimeOffset(access.Token.ValidTo, TimeSpan.Zero),
                            RevokedAt = now,
                        });
                        try
                        {
                            await db.SaveChangesAsync(context.RequestAborted);
                        }
                        catch (DbUpdateException)
                        {
                            // Revoked concurrently by another request: the outcome is the same.
                        }
                    }
                }
            }
            else
            {
                var hash = TokenHashes.Of(token);
                var refresh = await db.Set<RefreshToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, context.RequestAborted);
                if (refresh is not null && refresh.ClientId == client.ClientId)
                {
                    await revocation.RevokeFamilyAsync(refresh.FamilyId, context.RequestAborted);
                }
            }

            return OAuthResults.Json(new Dictionary<string, object>());
        }
        catch (OAuthException e)
        {
            return OAuthResults.Error(e.Error, e.Description);
        }
    }
}
