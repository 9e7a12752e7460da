using Compliance.Oidc.Clients;
using Compliance.Oidc.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// <c>POST /connect/token</c>: authenticates the client, then hands the request to the one grant handler of its
/// <c>grant_type</c>. Every rule of the endpoint lives in this folder.
/// </summary>
internal static class TokenEndpoint
{
    public const string Path = "/connect/token";

    public static void MapTokenEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost(Path, HandleAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Token).DisableAntiforgery();

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        ILogger<TokenResponses> logger)
    {
        string? clientId = null;
        try
        {
            var parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: false, context.RequestAborted);
            var grantType = parameters["grant_type"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "grant_type is missing.");
            var client = await authenticator.AuthenticateAsync(context.Request, parameters, Path, context.RequestAborted);
            clientId = client.ClientId;
            if (grantType is "authorization_code" or "refresh_token" or "client_credentials" && !client.Allows(grantType))
            {
                throw new OAuthException(OAuthErrors.UnauthorizedClient, $"This client may not use the {grantType} grant.");
            }

            // Only the handler of this grant is built: each depends on a different part of the service graph.
            var services = context.RequestServices;
            var response = grantType switch
            {
                "authorization_code" => await services.GetRequiredService<AuthorizationCodeGrant>().HandleAsync(client, parameters, context.RequestAborted),
                "refresh_token" => await services.GetRequiredService<RefreshTokenGrant>().HandleAsync(client, parameters, context.RequestAborted),
                "client_credentials" => await services.GetRequiredService<ClientCredentialsGrant>().HandleAsync(client, parameters, context.RequestAborted),
                _ => throw new OAuthException(OAuthErrors.UnsupportedGrantType, "Supported grant types: authorization_code, refresh_token, client_credentials."),
            };
            OidcLog.TokensIssued(logger, client.ClientId, grantType);
            return OAuthResults.Json(response);
        }
        catch (OAuthException e)
        {
            OidcLog.TokenRefused(logger, clientId ?? "(unauthenticated)", e.Error);
            return OAuthResults.Error(e.Error, e.Description);
        }
    }
}
