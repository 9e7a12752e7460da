using System.Globalization;
using System.Text;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Endpoints;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Ui;
using Compliance.Policies;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// The patient's own page: which partners hold an authorisation, and one button each to withdraw it, which revokes
/// at once everything issued to that partner (GDPR Art. 7(3): withdrawing is as easy as giving). The consent ledger
/// will record these decisions through the same seams.
/// </summary>
internal static class AuthorizationsPage
{
    public const string WithdrawPath = "/account/authorizations/withdraw";

    /// <summary>Withdraws one purpose's consent for one partner (the form names both).</summary>
    public const string WithdrawPurposePath = "/account/consents/withdraw";

    /// <summary>The receipt of one of the patient's consent events: <c>/account/consents/{event id}/receipt</c>.</summary>
    public const string ReceiptPathPrefix = "/account/consents/";

    public static void MapAuthorizationsPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(AccountEndpoints.SignedInPath, ShowAsync).ExcludeFromDescription();

        // The root leads the patient somewhere useful: their authorisations, or the sign-in page when signed out.
        routes.MapGet("/", () => Results.Redirect(AccountEndpoints.SignedInPath)).ExcludeFromDescription();
        routes.MapPost(WithdrawPath, WithdrawAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(WithdrawPurposePath, WithdrawPurposeAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapGet(ReceiptPathPrefix + "{eventId}/receipt", ReceiptAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(
        HttpContext context, IAntiforgery antiforgery, ComplianceDbContext db, IPatientConsents consents, bool? withdrawn)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        if (session is null)
        {
            return Results.Redirect(AccountEndpoints.SignInPath);
        }

        var grants = await (
                from grant in db.Set<ConsentGrant>().AsNoTracking()
                join client in db.Set<Client>().AsNoTracking() on grant.ClientId equals client.ClientId
                where grant.SubjectId == session.SubjectId && grant.RevokedAt == null
                orderby client.DisplayName
                select new { client.ClientId, client.DisplayName, grant.Scopes, grant.CreatedAt, client.RefreshTokenAbsoluteLifetimeSeconds })
            .ToListAsync(context.RequestAborted);

        var body = new StringBuilder();
        body.Append("<p id=\"authorizations-intro\">").Append(Html.E(UiText.Get("authorizations.intro", language))).Append("</p>");
        if (withdrawn == true)
        {
            body.Append("<p class=\"notice\" id=\"withdrawn\" role=\"status\">").Append(Html.E(UiText.Get("authorizations.withdrawn", language))).Append("</p>");
        }

        if (grants.Count == 0)
        {
            body.Append("<p id=\"no-authorizations\">").Append(Html.E(UiText.Get("authorizations.none", language))).Append("</p>");
        }

        var token = Html.Antiforgery(antiforgery, context);
        // A host without policies has no purposes to name (and no ledger to ask).
        var policies = context.RequestServices.GetService<PolicySet>();
        var current = policies is null ? [] : await consents.CurrentAsync(session.SubjectId, context.RequestAborted);
        var history = policies is null ? [] : await consents.HistoryAsync(session.SubjectId, context.RequestAborted);
        foreach (var grant in grants)
        {
            var since = grant.CreatedAt.ToString("d", CultureInfo.GetCultureInfo(language == UiLanguage.English ? "en-GB" : "fr-FR"));
            body.Append("<section class=\"authorization\"><h2>").Append(Html.E(grant.DisplayName)).Append("</h2><p>")
                .Append(Html.E(UiText.Get("authorizations.since", language, since))).Append("</p><ul class=\"scopes\">");
            foreach (var scope in grant.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var refresh = UiText.Duration(TimeSpan.FromSeconds(grant.RefreshTokenAbsoluteLifetimeSeconds), language);
                var sentence = UiText.Has("scope." + scope) ? UiText.Get("scope." + scope, language, grant.DisplayName, refresh) : scope;
                body.Append("<li id=\"scope-").Append(Html.E(grant.ClientId)).Append('-').Append(Html.E(scope)).Append("\">").Append(Html.E(sentence)).Append("</li>");
            }

            body.Append("</ul><form method=\"post\" action=\"").Append(WithdrawPath).Append("\">").Append(token)
                .Append(Html.Hidden("client_id", grant.ClientId))
                .Append("<button type=\"submit\" class=\"secondary\" id=\"withdraw-").Append(Html.E(grant.ClientId)).Append("\">")
                .Append(Html.E(UiText.Get("authorizations.withdraw", language))).Append("</button></form>");
            AppendConsents(body, token, language, policies, grant.ClientId,
                [.. current.Where(c => c.ClientId == grant.ClientId)], [.. history.Where(e => e.ClientId == grant.ClientId)]);
            body.Append("</section>");
        }

        if (PatientNav.DpoContact(context, "dpo-contact") is { } dpo)
        {
            body.Append("<p id=\"erasure\">").Append(Html.E(UiText.Get("authorizations.erasure", language))).Append(' ').Append(dpo).Append("</p>");
        }

        body.Append("<p><a id=\"security-link\" href=\"").Append(SecurityPage.Path).Append("\">")
            .Append(Html.E(UiText.Get("security.link", language))).Append("</a></p>");
        body.Append("<p><a id=\"signout-link\" href=\"").Append(EndSessionEndpoint.Path).Append("\">")
            .Append(Html.E(UiText.Get("authorizations.signout", language))).Append("</a></p>");
        return Html.Page(context, language, UiText.Get("authorizations.title", language), body.ToString(),
            nav: await PatientNav.RenderAsync(context, language, session));
    }

    /// <summary>
    /// Each consent-based purpose this partner asked for: its state, one button to withdraw it while it stands, and
    /// every event with its receipt (GDPR Art. 7(1): the patient holds the proof too).
    /// </summary>
    private static void AppendConsents(
        StringBuilder body, string token, string language, PolicySet? policies, string clientId, List<PatientConsent> current, List<PatientConsentEvent> history)
    {
        if (current.Count == 0)
        {
            return;
        }

        var culture = CultureInfo.GetCultureInfo(language == UiLanguage.English ? "en-GB" : "fr-FR");
        body.Append("<h3>").Append(Html.E(UiText.Get("consents.title", language))).Append("</h3><ul class=\"consents\">");
        foreach (var consent in current)
        {
            var name = policies?.FindPurpose(consent.PurposeId)?.Name.In(language) ?? consent.PurposeId;
            var id = $"{clientId}-{consent.PurposeId}";
            body.Append("<li id=\"consent-").Append(Html.E(id)).Append("\" data-state=\"").Append(Html.E(consent.State)).Append("\"><strong>")
                .Append(Html.E(name)).Append("</strong> : ")
                .Append(Html.E(UiText.Get("consents.state." + (consent.Stands ? "stands" : consent.State.ToLowerInvariant()), language, consent.Since.ToString("d", culture))));
            if (consent.ExpiresAt is { } expires && consent.Stands)
            {
                body.Append(' ').Append(Html.E(UiText.Get("consents.until", language, expires.ToString("d", culture))));
            }

            if (consent.Stands)
            {
                body.Append("<form method=\"post\" action=\"").Append(WithdrawPurposePath).Append("\">").Append(token)
                    .Append(Html.Hidden("client_id", clientId)).Append(Html.Hidden("purpose_id", consent.PurposeId))
                    .Append("<button type=\"submit\" class=\"secondary\" id=\"withdraw-consent-").Append(Html.E(id)).Append("\">")
                    .Append(Html.E(UiText.Get("consents.withdraw", language))).Append("</button></form>");
            }

            body.Append("</li>");
        }

        body.Append("</ul><details><summary>").Append(Html.E(UiText.Get("consents.history", language))).Append("</summary><ul class=\"consent-history\">");
        foreach (var entry in history)
        {
            var name = policies?.FindPurpose(entry.PurposeId)?.Name.In(language) ?? entry.PurposeId;
            body.Append("<li>").Append(Html.E(entry.OccurredAt.ToString("g", culture))).Append(" — ").Append(Html.E(name)).Append(" : ")
                .Append(Html.E(UiText.Get("consents.event." + entry.State.ToLowerInvariant(), language)))
                .Append(" <span class=\"recorded-by\">(")
                .Append(Html.E(entry.RecordedBy is { } partner ? UiText.Get("consents.recorded_by", language, partner) : UiText.Get("consents.given_here", language)))
                .Append(")</span>")
                .Append(" <a class=\"receipt\" id=\"receipt-").Append(entry.EventId.ToString()).Append("\" href=\"").Append(ReceiptPathPrefix).Append(entry.EventId.ToString())
                .Append("/receipt\" download>").Append(Html.E(UiText.Get("consents.receipt", language))).Append("</a></li>");
        }

        body.Append("</ul></details>");
    }

    private static async Task<IResult> WithdrawPurposeAsync(HttpContext context, IAntiforgery antiforgery, IPatientConsents consents)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var clientId = form is null ? null : AccountEndpoints.Field(form, "client_id");
        var purposeId = form is null ? null : AccountEndpoints.Field(form, "purpose_id");
        if (session is null || clientId is null or { Length: > 100 } || purposeId is null or { Length: > 64 })
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // Only what stands is withdrawn: a made-up partner or purpose changes nothing and records nothing.
        await consents.WithdrawAsync(session.SubjectId, clientId, purposeId, language, context.RequestAborted);
        return Results.Redirect($"{AccountEndpoints.SignedInPath}?withdrawn=true");
    }

    private static async Task<IResult> ReceiptAsync(HttpContext context, IPatientConsents consents, string eventId)
    {
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        if (session is null)
        {
            return Results.Redirect(AccountEndpoints.SignInPath);
        }

        // Another patient's event, a redacted one, or no event at all: the same 404.
        var receipt = Guid.TryParse(eventId, out var id) ? await consents.ReceiptAsync(session.SubjectId, id, context.RequestAborted) : null;
        if (receipt is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "no-store";
        return Results.File(receipt, "application/json", $"consent-receipt-{id}.json");
    }

    private static async Task<IResult> WithdrawAsync(
        HttpContext context, IAntiforgery antiforgery, IGrantRevocation revocation, IPatientConsents consents, IAuditTrail trail, ILogger<ConsentGrant> logger)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var clientId = form is null ? null : AccountEndpoints.Field(form, "client_id");
        if (session is null || clientId is null or { Length: > 100 })
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // Every consent that stands for this partner is withdrawn in the ledger first, then its grants and tokens go.
        await consents.WithdrawAsync(session.SubjectId, clientId, null, language, context.RequestAborted);

        // Recorded only when something was withdrawn, so the row names a real client, never text the form made up.
        if (await revocation.RevokeSubjectClientAsync(session.SubjectId, clientId, context.RequestAborted) > 0)
        {
            await trail.RecordAsync(AuditEventTypes.ConsentWithdrawn, ConsentGrants.PatientActor, session.SubjectId,
                System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["client_id"] = clientId }), context.RequestAborted);
            OidcLog.ConsentWithdrawn(logger, clientId);
        }

        return Results.Redirect($"{AccountEndpoints.SignedInPath}?withdrawn=true");
    }
}
