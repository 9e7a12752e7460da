using System.Text;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary>
/// The consent screen: what the partner will receive, in plain French or English, and two buttons. Every decision goes
/// through <see cref="IConsentDecisions"/>, the seam the consent ledger records.
/// </summary>
internal static class ConsentEndpoint
{
    public static void MapConsentEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(AuthorizeEndpointPaths.Consent, ShowAsync).ExcludeFromDescription();
        routes.MapPost(AuthorizeEndpointPaths.Consent, DecideAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, ClientRegistry clients, AuthorizationFlow flow, string? interaction)
    {
        var language = UiLanguage.From(context.Request);
        var (request, client, session) = await LoadAsync(context, interactions, clients, interaction);
        if (request is null || client is null)
        {
            return Html.ErrorPage(context, language, "error.expired");
        }

        if (session is null || session.SessionId != request.ConsentSessionId)
        {
            // Signed out, or another sign-in since this page was prepared: the decision starts over.
            return Results.Redirect($"{AuthorizeEndpointPaths.Resume}?interaction={Uri.EscapeDataString(flow.Restart(request))}");
        }

        var scopes = new StringBuilder();
        foreach (var scope in request.Scopes)
        {
            // Every scope a patient can be asked for has its sentence; an unknown one is shown as is rather than hidden.
            var sentence = UiText.Has("scope." + scope) ? UiText.Get("scope." + scope, language, client.DisplayName) : scope;
            scopes.Append("<li>").Append(Html.E(sentence)).Append("</li>");
        }

        var body = $"""
            <p>{Html.E(UiText.Get("consent.intro", language, client.DisplayName))}</p>
            <ul class="scopes">{scopes}</ul>
            <p>{Html.E(UiText.Get("consent.nothing_else", language))}</p>
            <p>{Html.E(UiText.Get("consent.withdraw", language))}</p>
            <form method="post" action="{AuthorizeEndpointPaths.Consent}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}
              <div class="actions">
                <button type="submit" name="decision" value="allow" id="allow">{Html.E(UiText.Get("consent.allow", language))}</button>
                <button type="submit" name="decision" value="deny" id="deny" class="secondary">{Html.E(UiText.Get("consent.deny", language))}</button>
              </div>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("consent.title", language, client.DisplayName), body, formTarget: request.RedirectUri);
    }

    private static async Task<IResult> DecideAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        InteractionProtector interactions,
        ClientRegistry clients,
        IConsentDecisions decisions,
        AuthorizationFlow flow,
        TimeProvider time,
        ILogger<AuthorizationFlow> logger)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : AccountEndpoints.Field(form, "interaction");
        var decision = form is null ? null : AccountEndpoints.Field(form, "decision");
        var (request, client, session) = await LoadAsync(context, interactions, clients, interaction);

        // The token must be a consent-stage token, checked for this very session: a sign-in token, or a consent page
        // prepared for another session, cannot decide anything.
        if (form is null || request is null || client is null || session is null || session.SessionId != request.ConsentSessionId
            || decision is not ("allow" or "deny"))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var allowed = decision == "allow";
        await decisions.RecordAsync(
            new ConsentDecision(session.SubjectId, client.ClientId, request.Scopes, allowed, language, time.GetUtcNow()),
            context.RequestAborted);
        OidcLog.ConsentDecided(logger, client.ClientId, decision);

        // The code is still decided by the one function that gates every code.
        return allowed
            ? await flow.ContinueAsync(context, request, client, consentGiven: true)
            : flow.Error(request, OAuthErrors.AccessDenied, "The patient refused.");
    }

    private static async Task<(AuthorizationRequest? Request, Client? Client, Session? Session)> LoadAsync(
        HttpContext context, InteractionProtector interactions, ClientRegistry clients, string? interaction)
    {
        var request = interactions.UnprotectForConsent(interaction);
        var client = request is null ? null : await clients.FindAsync(request.ClientId, context.RequestAborted);
        if (client is not null && !client.RedirectUriList.Contains(request!.RedirectUri, StringComparer.Ordinal))
        {
            client = null;
        }

        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        return (request, client, session);
    }
}
