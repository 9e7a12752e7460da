using System.Text.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary><c>POST /connect/par</c> (RFC 9126): an authenticated client pushes its request and gets a one-time request_uri.</summary>
internal static class PushedAuthorizationEndpoint
{
    public static void MapPushedAuthorizationEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost(AuthorizeEndpointPaths.PushedAuthorization, PushAsync)
            .ExcludeFromDescription()
            .RequireRateLimiting(OidcRateLimits.Token)
            .DisableAntiforgery();

    private static async Task<IResult> PushAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        AuthorizationValidator validator,
        ComplianceDbContext db,
        IOptions<OidcOptions> options,
        TimeProvider time)
    {
        try
        {
            var parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: false, context.RequestAborted);
            var client = await authenticator.AuthenticateAsync(context.Request, parameters, AuthorizeEndpointPaths.PushedAuthorization, context.RequestAborted);
            var validation = validator.ValidatePushed(parameters, client);
            if (validation is AuthorizationValidation.Untrusted untrusted)
            {
                return OAuthResults.Error(untrusted.Error, untrusted.Description);
            }

            if (validation is AuthorizationValidation.Redirected redirected)
            {
                return OAuthResults.Error(redirected.Error, redirected.Description);
            }

            var handle = TokenIssuer.NewOpaque();
            var lifetime = options.Value.PushedRequestLifetimeSeconds;
            var stored = parameters.All
                .Where(p => p.Key is not ("client_assertion" or "client_assertion_type" or "client_secret"))
                .ToDictionary(p => p.Key, p => p.Value);
            stored["client_id"] = client.ClientId;
            db.Add(new PushedRequest
            {
                Handle = handle,
                ClientId = client.ClientId,
                Parameters = JsonSerializer.Serialize(stored),
                ExpiresAt = time.GetUtcNow().AddSeconds(lifetime),
            });
            await db.SaveChangesAsync(context.RequestAborted);
            return OAuthResults.Json(new Dictionary<string, object>
            {
                ["request_uri"] = AuthorizeEndpointPaths.RequestUriPrefix + handle,
                ["expires_in"] = lifetime,
            }, StatusCodes.Status201Created);
        }
        catch (OAuthException e)
        {
            return OAuthResults.Error(e.Error, e.Description);
        }
    }
}
