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

    /// <summary>The form field of the "stay signed in" box; only the value <c>yes</c> keeps <c>offline_access</c>.</summary>
    public const string OfflineAccessField = "offline_access";

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, ClientRegistry clients, AuthorizationFlow flow, string? interaction)
    {
        var (request, client, session) = await LoadAsync(context, interactions, clients, interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        if (request is null || client is null)
        {
            return Html.ErrorPage(context, language, "error.expired");
        }

        if (session is null || session.SessionId != request.ConsentSessionId)
        {
            // Signed out, or another sign-in since this page was prepared: the decision starts over.
            return Results.Redirect($"{AuthorizeEndpointPaths.Resume}?interaction={Uri.EscapeDataString(flow.Restart(request))}");
        }

        var name = client.DisplayName;
        var scopes = new StringBuilder();
        foreach (var scope in request.Scopes.Where(s => s != "offline_access"))
        {
            // Every scope a patient can be asked for has its sentence; an unknown one is shown as is rather than hidden.
            var sentence = UiText.Has("scope." + scope) ? UiText.Get("scope." + scope, language, name) : scope;
            scopes.Append("<li>").Append(Html.E(sentence)).Append("</li>");
        }

        // Staying signed in is a choice of its own, never pre-ticked: the patient may allow the rest without it.
        var offline = !request.Scopes.Contains("offline_access", StringComparer.Ordinal) ? "" : $"""
            <div class="choice">
              <input type="checkbox" id="offline_access" name="{OfflineAccessField}" value="yes" aria-describedby="offline_access_hint">
              <label class="inline" for="offline_access" id="offline_access_label">{Html.E(UiText.Get("scope.offline_access", language, name, UiText.Duration(TimeSpan.FromSeconds(client.RefreshTokenAbsoluteLifetimeSeconds), language)))}</label>
            </div>
            <p class="hint" id="offline_access_hint">{Html.E(UiText.Get("consent.offline_choice", language, name))}</p>
            """;

        // "Not you?": the confirmed sign-out comes back to the sign-in page of this same request.
        var notYou = $"{EndSessionEndpoint.Path}?{EndSessionEndpoint.RestartParameter}={Uri.EscapeDataString(flow.Restart(request))}";
        var dpo = PatientNav.DpoContact(context, "dpo-contact");
        var body = $"""
            <p>{Html.E(UiText.Get("consent.intro", language, name))}</p>
            <form method="post" action="{AuthorizeEndpointPaths.Consent}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}
              <ul class="scopes">{scopes}</ul>
              {offline}
              <p id="nothing-else">{Html.E(UiText.Get("consent.nothing_else", language, name))}</p>
              <p id="withdraw">{Html.E(UiText.Get("consent.withdraw", language, name))} <a id="consent-authorizations" href="{AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("authorizations.title", language))}</a></p>
              {(dpo is null ? "" : $"<p id=\"erasure\">{Html.E(UiText.Get("consent.erasure", language, name))} {dpo}</p>")}
              {PrivacyNoticePage.Link(context, language)}
              <div class="actions">
                <button type="submit" name="decision" value="allow" id="allow">{Html.E(UiText.Get("consent.allow", language))}</button>
                <button type="submit" name="decision" value="deny" id="deny">{Html.E(UiText.Get("consent.deny", language))}</button>
              </div>
            </form>
            <p><a id="not-you" href="{Html.E(notYou)}">{Html.E(UiText.Get("consent.not_you", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("consent.title", language, name), body, formTarget: request.RedirectUri,
            nav: await PatientNav.RenderAsync(context, language, session));
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
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : AccountEndpoints.Field(form, "interaction");
        var decision = form is null ? null : AccountEndpoints.Field(form, "decision");
        var (request, client, session) = await LoadAsync(context, interactions, clients, interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);

        // The token must be a consent-stage token, checked for this very session: a sign-in token, or a consent page
        // prepared for another session, cannot decide anything.
        if (form is null || request is null || client is null || session is null || session.SessionId != request.ConsentSessionId
            || decision is not ("allow" or "deny"))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // An unticked "stay signed in" box narrows the request itself: the decision records the scopes without
        // offline_access, and the code carries them, so the partner gets no refresh token.
        if (decision == "allow" && request.Scopes.Contains("offline_access", StringComparer.Ordinal) && AccountEndpoints.Field(form, OfflineAccessField) != "yes")
        {
            request = request with { Scopes = [.. request.Scopes.Where(s => s != "offline_access")] };
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
