using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
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

namespace Compliance.Oidc.Endpoints;

/// <summary>
/// RP-Initiated Logout 1.0. With an ID token of the current session as <c>id_token_hint</c> the session ends at
/// once; otherwise the patient confirms first, so that a third-party page cannot sign them out. Ending the session
/// ends it on the server, for every node, and tells each partner that received an ID token in it (back-channel). <c>post_logout_redirect_uri</c> must be one of
/// the client's registered URIs, exactly, or there is no redirect.
/// </summary>
internal static class EndSessionEndpoint
{
    public const string Path = "/connect/endsession";

    /// <summary>
    /// "Not you?" on the consent page: a sign-in interaction token. Once the sign-out is confirmed, the patient is sent
    /// to the sign-in page of that same request (a path of ours, never an address from the query).
    /// </summary>
    public const string RestartParameter = "interaction";
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
        IdTokenHints hints,
        ClientRegistry clients,
        SessionStore store,
        PairwiseSessions sessions,
        IPairwiseSubjects subjects,
        IOptions<OidcOptions> options,
        Interaction.InteractionProtector interactions,
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

        var current = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        JsonWebToken? idToken = null;
        if (parameters["id_token_hint"] is { } hint)
        {
            (var signed, idToken) = await hints.ReadAsync(hint, audience: null, context.RequestAborted);
            if (!signed)
            {
                return Endpoints.Authorize.AuthorizationFlow.Untrusted(context, OAuthErrors.InvalidRequest, "id_token_hint is not a valid ID token from this provider.");
            }
        }

        var hintClient = idToken?.Audiences.Single();
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

        // The hint ends the session without asking only if it is an ID token issued in this very session, for this
        // patient: another patient's token, or one from an earlier session, leads to the confirmation page.
        var hintValid = current is not null && idToken is not null && client is not null && client.ClientId == hintClient
            && idToken.TryGetPayloadValue<string>("sid", out var sid)
            && sid == await sessions.SessionForAsync(current.SessionId, client.Sector, context.RequestAborted)
            && idToken.Subject == await subjects.SubjectForAsync(current.SubjectId, client.Sector, context.RequestAborted);

        if (current is not null && !hintValid && !confirmed)
        {
            var hidden = string.Concat(parameters.All.Select(p => Html.Hidden(p.Key, p.Value)));
            var body = $"""
                <p>{Html.E(UiText.Get("signout.confirm", language))}</p>
                <form method="post" action="{Path}">
                  {Html.Antiforgery(antiforgery, context)}{hidden}{Html.Hidden("confirm", "1")}
                  <button type="submit" id="signout">{Html.E(UiText.Get("signout.submit", language))}</button>
                </form>
                """;
            return Html.Page(context, language, UiText.Get("signout.title", language), body, formTarget: redirect,
                nav: await Accounts.PatientNav.RenderAsync(context, language, current));
        }

        if (current is not null)
        {
            await store.EndAsync(current.SessionId, SessionEndReasons.SignedOut, context.RequestAborted);
        }

        await context.SignOutAsync(Session.Scheme);
        OidcLog.SignedOut(logger, client?.ClientId ?? "(none)");
        if (redirect is not null)
        {
            var state = parameters["state"];
            return Results.Redirect(state is null ? redirect : QueryHelpers.AddQueryString(redirect, "state", state));
        }

        var restart = parameters[RestartParameter];
        if (interactions.Unprotect(restart) is not null)
        {
            return Results.Redirect($"{Accounts.AccountEndpoints.SignInPath}?interaction={Uri.EscapeDataString(restart!)}");
        }

        var done = $"""
            <p id="signed-out">{Html.E(UiText.Get("signout.done", language))}</p>
            <p><a id="signin-again" href="{Accounts.AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("signout.signin_again", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("signout.title", language), done);
    }
}
