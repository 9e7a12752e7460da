using System.Globalization;
using System.Text;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Ui;
using Compliance.Policies;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>The prefix of a consent-based purpose's box (<c>purpose:research</c>); only the value <c>yes</c> gives consent.</summary>
    public const string PurposeFieldPrefix = "purpose:";

    /// <summary>The prefix of the hidden field carrying the notice version the page showed for a purpose (<c>notice:research</c>).</summary>
    public const string NoticeFieldPrefix = "notice:";

    private static async Task<IResult> ShowAsync(
        HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, ClientRegistry clients, AuthorizationFlow flow, TimeProvider time,
        string? interaction)
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
        var now = time.GetUtcNow();
        var policies = context.RequestServices.GetService<PolicySet>();
        var scopes = new StringBuilder();
        foreach (var scope in request.Scopes.Where(s => s != "offline_access" && policies?.PurposeForScope(s) is null))
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
              {Purposes(request, client, policies, language, now)}
              {offline}
              {Controllers(client, policies, language)}
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
        // A host may run without policies (no purposes, no scopes resting on them); the page then shows none.
        var policies = context.RequestServices.GetService<PolicySet>();
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

        // The purposes are those of the request's scopes as the page showed them: a box for any other purpose (unknown,
        // retired, not consent-based, not requested) is a forged form and decides nothing.
        var now = time.GetUtcNow();
        var shown = ConsentPurposes(request, policies, now);
        var posted = form.Keys.Where(key => key.StartsWith(PurposeFieldPrefix, StringComparison.Ordinal)).ToList();
        if (posted.Any(key => !shown.Any(purpose => PurposeFieldPrefix + purpose.Id == key) || AccountEndpoints.Field(form, key) != "yes"))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // What is recorded is the version the page showed; if another one came into force since, the patient reads it first.
        var choices = new List<ConsentDecision.PurposeChoice>();
        foreach (var purpose in shown)
        {
            // A missing version means the page showed no box for this purpose: a notice came into force since.
            var version = AccountEndpoints.Field(form, NoticeFieldPrefix + purpose.Id);
            if (version is null || purpose.CurrentNotice(now)?.Version != version)
            {
                return Html.ErrorPage(context, language, "error.notice_changed");
            }

            var ticked = decision == "allow" && form.ContainsKey(PurposeFieldPrefix + purpose.Id);
            choices.Add(new ConsentDecision.PurposeChoice(purpose.Id, version, ticked));
        }

        // A refused purpose takes its scopes off the request, as the unticked "stay signed in" box does; so does a purpose
        // that was not shown (retired since the request was made, or with no notice in force), which offers no scope.
        var withheld = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in request.Scopes)
        {
            if (policies?.PurposeForScope(scope) is { } purpose
                && (purpose.Retired || (purpose.ConsentRequired && !choices.Any(choice => choice.PurposeId == purpose.Id && choice.Given))))
            {
                withheld.Add(scope);
            }
        }

        if (decision == "allow" && withheld.Count > 0)
        {
            request = request with { Scopes = [.. request.Scopes.Where(s => !withheld.Contains(s))] };
        }

        var allowed = decision == "allow";
        await decisions.RecordAsync(
            new ConsentDecision(session.SubjectId, client.ClientId, request.Scopes, allowed, language, now) { Purposes = choices },
            context.RequestAborted);
        OidcLog.ConsentDecided(logger, client.ClientId, decision);

        // The code is still decided by the one function that gates every code.
        return allowed
            ? await flow.ContinueAsync(context, request, client, consentGiven: true)
            : flow.Error(request, OAuthErrors.AccessDenied, "The patient refused.");
    }

    /// <summary>
    /// The consent-based, non-retired purposes that the request's scopes rest on, in the order of their first scope: one
    /// box each on the page, and one <see cref="ConsentDecision.PurposeChoice"/> each in the decision.
    /// </summary>
    internal static IReadOnlyList<Purpose> ConsentPurposes(AuthorizationRequest request, PolicySet? policies, DateTimeOffset now) =>
        [.. InformedPurposes(request, policies, now).Where(purpose => purpose.ConsentRequired)];

    // Every purpose a requested scope rests on, each once, that can be shown: not retired, and for a consent-based one
    // with a notice in force (one that only takes effect later is not asked for yet, and its scopes are not granted).
    private static IEnumerable<Purpose> InformedPurposes(AuthorizationRequest request, PolicySet? policies, DateTimeOffset now) =>
        request.Scopes.Select(scope => policies?.PurposeForScope(scope)).OfType<Purpose>()
            .Where(purpose => !purpose.Retired && (!purpose.ConsentRequired || purpose.CurrentNotice(now) is not null))
            .DistinctBy(purpose => purpose.Id);

    // Each purpose the partner's scopes rest on, in plain words. A consent-based one gets its own box, never pre-ticked
    // (CJEU C-673/17 Planet49), and the current notice version in the page's language, which the decision records.
    private static string Purposes(AuthorizationRequest request, Client client, PolicySet? policies, string language, DateTimeOffset now)
    {
        var html = new StringBuilder();
        foreach (var purpose in InformedPurposes(request, policies, now))
        {
            var id = Html.E(purpose.Id);
            var scopes = request.Scopes.Where(scope => policies?.PurposeForScope(scope) == purpose).ToList();
            html.Append(CultureInfo.InvariantCulture, $"""<section class="purpose" id="purpose-{id}" data-scopes="{Html.E(string.Join(' ', scopes))}">""")
                .Append(CultureInfo.InvariantCulture, $"<h2>{Html.E(purpose.Name.In(language))}</h2>")
                .Append(CultureInfo.InvariantCulture, $"""<p class="description">{Html.E(purpose.Description.In(language))}</p>""")
                .Append(CultureInfo.InvariantCulture, $"""<p class="legal-basis">{Html.E(UiText.Get("consent.purpose.legal_basis", language, UiText.Get("legal_basis." + purpose.LegalBasis.Id, language)))}</p>""")
                .Append(CultureInfo.InvariantCulture, $"""<p class="categories">{Html.E(UiText.Get("consent.purpose.categories", language, string.Join(", ", purpose.DataCategories.Select(c => c.Name.In(language)))))}</p>""");
            if (purpose.Consent?.Validity is { } validity)
            {
                html.Append(CultureInfo.InvariantCulture, $"""<p class="validity">{Html.E(UiText.Get("consent.purpose.validity", language, UiText.Period(validity, language)))}</p>""");
            }

            if (!purpose.ConsentRequired)
            {
                html.Append(CultureInfo.InvariantCulture, $"""<p class="no-consent">{Html.E(UiText.Get("consent.purpose.no_consent", language))}</p></section>""");
                continue;
            }

            // Validated at load: every non-retired purpose in use has a current version with a text in each language.
            var notice = purpose.CurrentNotice(now);
            var text = notice?.In(language);
            if (notice is null || text is null)
            {
                throw new InvalidOperationException($"Purpose '{purpose.Id}' has no notice in force in '{language}'.");
            }

            html.Append(CultureInfo.InvariantCulture, $"""<p class="notice"><a class="notice-link" href="{Html.E(text.Url.AbsoluteUri)}" data-version="{Html.E(notice.Version)}" hreflang="{Html.E(text.Language)}">{Html.E(UiText.Get("consent.purpose.notice", language, notice.Version))}</a></p>""")
                .Append(Html.Hidden(NoticeFieldPrefix + purpose.Id, notice.Version))
                .Append(CultureInfo.InvariantCulture, $"""
                    <div class="choice">
                      <input type="checkbox" id="purpose-box-{id}" name="{Html.E(PurposeFieldPrefix + purpose.Id)}" value="yes" aria-describedby="purpose-hint-{id}">
                      <label class="inline" for="purpose-box-{id}">{Html.E(UiText.Get("consent.purpose.accept", language, purpose.Name.In(language)))}</label>
                    </div>
                    <p class="hint" id="purpose-hint-{id}">{Html.E(UiText.Get("consent.purpose.optional", language, client.DisplayName))}</p>
                    </section>
                    """);
        }

        return html.ToString();
    }

    // Each partner is its own controller for what it receives (GDPR Art. 13(1)(a, b)); the account stays the operator's.
    private static string Controllers(Client client, PolicySet? policies, string language)
    {
        var partner = new StringBuilder();
        partner.Append(CultureInfo.InvariantCulture, $"""<p id="partner-controller">{Html.E(UiText.Get("consent.controller.partner", language, client.ControllerName ?? client.DisplayName))}""");
        if (client.DpoContact is { } dpo && ClientAdministration.IsAcceptableDpoContact(dpo))
        {
            var shownDpo = dpo.StartsWith("mailto:", StringComparison.Ordinal) ? dpo["mailto:".Length..] : dpo;
            partner.Append(CultureInfo.InvariantCulture, $""" {Html.E(UiText.Get("consent.controller.partner_dpo", language))} <a id="partner-dpo" href="{Html.E(dpo)}">{Html.E(shownDpo)}</a>""");
        }

        if (client.NoticeUrl is { } notice && ClientAdministration.IsAcceptableNoticeUrl(notice))
        {
            partner.Append(CultureInfo.InvariantCulture, $""" <a id="partner-notice" href="{Html.E(notice)}">{Html.E(UiText.Get("consent.controller.partner_notice", language, client.ControllerName ?? client.DisplayName))}</a>""");
        }

        partner.Append("</p>");
        var controller = policies?.Controller;
        var account = controller is null ? "" : $"""<p id="account-controller">{Html.E(UiText.Get("consent.controller.account", language, controller.Name))} {Html.Contact(controller.DataProtectionOfficer.Contact, "account-dpo")}</p>""";
        return $"""<section id="controllers"><h2>{Html.E(UiText.Get("consent.controller.title", language))}</h2>{partner}{account}</section>""";
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
