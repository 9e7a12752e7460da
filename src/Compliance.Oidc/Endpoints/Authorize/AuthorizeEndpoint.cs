using Compliance.Oidc.Interaction;
using Compliance.Oidc.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary><c>GET|POST /connect/authorize</c> and its resumption after sign-in.</summary>
internal static class AuthorizeEndpoint
{
    public static void MapAuthorizeEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapMethods(AuthorizeEndpointPaths.Authorize, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync).ExcludeFromDescription();
        routes.MapGet(AuthorizeEndpointPaths.Resume, ResumeAsync).ExcludeFromDescription();
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context, AuthorizationValidator validator, AuthorizationFlow flow)
    {
        ProtocolParameters parameters;
        try
        {
            parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: true, context.RequestAborted);
        }
        catch (OAuthException e)
        {
            // Without trustworthy parameters there is no redirect URI to trust either.
            return AuthorizationFlow.Untrusted(context, e.Error, e.Description);
        }

        return await validator.ValidateAsync(parameters, context.RequestAborted) switch
        {
            AuthorizationValidation.Valid valid => await flow.ContinueAsync(context, valid.Request, valid.Client),
            AuthorizationValidation.Redirected redirected => flow.Error(redirected.Client.ClientId, redirected.RedirectUri, redirected.State, redirected.Error, redirected.Description),
            AuthorizationValidation.Untrusted untrusted => AuthorizationFlow.Untrusted(context, untrusted.Error, untrusted.Description),
            _ => throw new InvalidOperationException("Unknown validation outcome."),
        };
    }

    private static async Task<IResult> ResumeAsync(HttpContext context, InteractionProtector interactions, Clients.ClientRegistry clients, AuthorizationFlow flow, string? interaction)
    {
        var request = interactions.Unprotect(interaction);
        var client = request is null ? null : await clients.FindAsync(request.ClientId, context.RequestAborted);
        if (request is null || client is null || !client.RedirectUriList.Contains(request.RedirectUri, StringComparer.Ordinal))
        {
            var language = Ui.UiLanguage.From(context.Request);
            return Ui.Html.ErrorPage(context, language, "error.expired");
        }

        return await flow.ContinueAsync(context, request, client);
    }
}
