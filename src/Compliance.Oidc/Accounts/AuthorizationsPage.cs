using System.Globalization;
using System.Text;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Endpoints;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
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

    public static void MapAuthorizationsPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(AccountEndpoints.SignedInPath, ShowAsync).ExcludeFromDescription();

        // The root leads the patient somewhere useful: their authorisations, or the sign-in page when signed out.
        routes.MapGet("/", () => Results.Redirect(AccountEndpoints.SignedInPath)).ExcludeFromDescription();
        routes.MapPost(WithdrawPath, WithdrawAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, ComplianceDbContext db, bool? withdrawn)
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
                .Append(Html.E(UiText.Get("authorizations.withdraw", language))).Append("</button></form></section>");
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

    private static async Task<IResult> WithdrawAsync(
        HttpContext context, IAntiforgery antiforgery, IGrantRevocation revocation, IAuditTrail trail, ILogger<ConsentGrant> logger)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var clientId = form is null ? null : AccountEndpoints.Field(form, "client_id");
        if (session is null || clientId is null or { Length: > 100 })
        {
            return Html.ErrorPage(context, language, "error.form");
        }

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
