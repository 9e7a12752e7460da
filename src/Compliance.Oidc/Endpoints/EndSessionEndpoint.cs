using Compliance.Keys;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Endpoints;

/// <summary>
/// RP-Initiated Logout 1.0. With a valid <c>id_token_hint</c> the session ends at once; without one the patient
/// confirms first, so that a third-party page cannot sign them out. <c>post_logout_redirect_uri</c> must be one of
/// the client's registered URIs, exactly, or there is no redirect.
/// </summary>
internal static class EndSessionEndpoint
{
    public const string Path = "/connect/endsession";
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static void MapEndSessionEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, RequestAsync).ExcludeFromDescription();
        routes.MapPost(Path, RequestAsync).ExcludeFromDescription();
    }

    private static async Task<IFormCollection?> ReadFormOrNullAsync(HttpRequest request)
    {
        try
        {
            return await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return null;
        }
    }

    private static async Task<IResult> RequestAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        ISigningKeys keys,
        ClientRegistry clients,
        IOptions<OidcOptions> options,
        ILogger<ClientRegistry> logger)
    {
        var language = UiLanguage.From(context.Request);
        ProtocolParameters parameters;
        var confirmed = false;
        try
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType
                && (await ReadFormOrNullAsync(context.Request))?.ContainsKey("confirm") == true)
            {
                if (await Accounts.AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
                {
                    return Html.ErrorPage(context, language, "error.form");
                }

                confirmed = true;
            }

            parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: true, context.RequestAborted);
        }
        catch (OAuthException e)
        {
            return Endpoints.Authorize.AuthorizationFlow.Untrusted(context, e.Error, e.Description);
        }

        string? hintClient = null;
        var hintValid = false;
        if (parameters["id_token_hint"] is { } hint)
        {
            var result = await Handler.ValidateTokenAsync(hint, new TokenValidationParameters
            {
                ValidIssuer = options.Value.IssuerUri,
                ValidateAudience = false,
                ValidateLifetime = false,
                IssuerSigningKeys = await keys.GetValidationKeysAsync(context.RequestAborted),
            });
            if (!result.IsValid || result.SecurityToken is not JsonWebToken idToken)
            {
                return Endpoints.Authorize.AuthorizationFlow.Untrusted(context, OAuthErrors.InvalidRequest, "id_token_hint is not a valid ID token from this provider.");
            }

            hintClient = idToken.Audiences.FirstOrDefault();
            hintValid = true;
        }

        var clientId = parameters["client_id"] ?? hintClient;
        if (hintClient is not null && parameters["client_id"] is { } given && given != hintClient)
        {
            return Endpoints.Authorize.AuthorizationFlow.Untrusted(context, OAuthErrors.InvalidRequest, "client_id does not match id_token_hint.");
        }

        var client = clientId is null ? null : await clients.FindAsync(clientId, context.RequestAborted);
        var redirect = parameters["post_logout_redirect_uri"];
        if (redirect is not null && (client is null || !client.PostLogoutRedirectUriList.Contains(redirect, StringComparer.Ordinal)))
        {
            return Endpoints.Authorize.AuthorizationFlow.Untrusted(context, OAuthErrors.InvalidRequest, "post_logout_redirect_uri is not registered for this client.");
        }

        if (!hintValid && !confirmed)
        {
            var hidden = string.Concat(parameters.All.Select(p => Html.Hidden(p.Key, p.Value)));
            var body = $"""
                <p>{Html.E(UiText.Get("signout.confirm", language))}</p>
                <form method="post" action="{Path}">
                  {Html.Antiforgery(antiforgery, context)}{hidden}{Html.Hidden("confirm", "1")}
                  <button type="submit" id="signout">{Html.E(UiText.Get("signout.submit", language))}</button>
                </form>
                """;
            return Html.Page(context, language, UiText.Get("signout.title", language), body, formTarget: redirect);
        }

        await context.SignOutAsync(Session.Scheme);
        OidcLog.SignedOut(logger, client?.ClientId ?? "(none)");
        if (redirect is not null)
        {
            var state = parameters["state"];
            return Results.Redirect(state is null ? redirect : QueryHelpers.AddQueryString(redirect, "state", state));
        }

        return Html.Page(context, language, UiText.Get("signout.title", language), $"<p id=\"signed-out\">{Html.E(UiText.Get("signout.done", language))}</p>");
    }
}
