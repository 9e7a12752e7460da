using System.Globalization;
using System.Text;
using Compliance.Data.Model;
using Compliance.Jobs.Notices;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// "My notifications": the account's delivered notices (<see cref="INotices"/>), unread first, each worded here from
/// its structured facts in the patient's language, with one button to mark it read (then back here: post, redirect,
/// get). A partner is named by its display name, which this module owns, or by its client id when it has none. Another
/// account's notice, or an id that is not one, is a 404 that changes nothing; a form without its antiforgery token, or
/// with a malformed id, is a 400. No script.
/// </summary>
internal static class NoticesPage
{
    public const string Path = "/account/notices";
    public const string ReadPath = Path + "/read";

    // Far more than a patient gets; the oldest read ones drop off the page, never the unread ones, which come first.
    private const int Shown = 100;

    public static void MapNoticesPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription();
        routes.MapPost(ReadPath, MarkReadAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    /// <summary>The link of the patient header, with the unread count; "" where notices are not part of the host.</summary>
    public static async Task<string> NavLinkAsync(HttpContext context, string language, Session session)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(session);
        if (context.RequestServices.GetService<INotices>() is not { } notices)
        {
            return "";
        }

        var unread = await notices.CountUnreadAsync(session.SubjectId, context.RequestAborted);
        var text = unread switch
        {
            0 => UiText.Get("nav.notices", language),
            1 => UiText.Get("nav.notices_unread_one", language),
            _ => UiText.Get("nav.notices_unread", language, unread),
        };
        return $"<a id=\"nav-notices\" href=\"{Path}\">{Html.E(text)}</a>";
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, ComplianceDbContext db)
    {
        var language = UiLanguage.From(context.Request);
        if (await PatientFlow.SessionAsync(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(null, Path));
        }

        if (context.RequestServices.GetService<INotices>() is not { } notices)
        {
            return Results.NotFound();
        }

        var list = await notices.ListAsync(session.SubjectId, Shown, context.RequestAborted);
        var partners = await PartnerNamesAsync(db, list, context.RequestAborted);
        var body = new StringBuilder();
        body.Append("<p id=\"notices-intro\">").Append(Html.E(UiText.Get("notices.intro", language))).Append("</p>");
        if (list.Count == 0)
        {
            body.Append("<p id=\"no-notices\">").Append(Html.E(UiText.Get("notices.none", language))).Append("</p>");
        }
        else
        {
            var token = Html.Antiforgery(antiforgery, context);
            body.Append("<ol class=\"notices\" id=\"notices\">");
            foreach (var notice in list)
            {
                var id = notice.Id.ToString("D");
                var key = "notice." + NoticeKinds.Name(notice.Facts.Kind);
                body.Append("<li id=\"notice-").Append(id).Append("\" class=\"").Append(notice.IsRead ? "notice-read" : "notice-unread").Append("\">")
                    .Append("<h2 id=\"notice-").Append(id).Append("-title\">").Append(Html.E(UiText.Get(key + ".title", language))).Append("</h2>")
                    .Append("<p id=\"notice-").Append(id).Append("-text\">").Append(Html.E(Sentence(notice.Facts, partners, language))).Append("</p>")
                    .Append("<p class=\"hint\" id=\"notice-").Append(id).Append("-state\">")
                    .Append(Html.E(UiText.Get("notices.received", language, PatientFlow.Time(notice.DeliveredAt)))).Append(" · ")
                    .Append(Html.E(UiText.Get(notice.IsRead ? "notices.read" : "notices.unread", language))).Append("</p>");
                if (!notice.IsRead)
                {
                    body.Append("<form method=\"post\" action=\"").Append(ReadPath).Append("\">").Append(token).Append(Html.Hidden("notice", id))
                        .Append("<button type=\"submit\" class=\"secondary\" id=\"read-").Append(id).Append("\">")
                        .Append(Html.E(UiText.Get("notices.mark_read", language))).Append("</button></form>");
                }

                body.Append("</li>");
            }

            body.Append("</ol>");
        }

        return Html.Page(context, language, UiText.Get("notices.title", language), body.ToString(),
            nav: await PatientNav.RenderAsync(context, language, session));
    }

    private static async Task<IResult> MarkReadAsync(HttpContext context, IAntiforgery antiforgery)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        if (form is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        if (await PatientFlow.SessionAsync(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(null, Path));
        }

        if (!Guid.TryParseExact(AccountEndpoints.Field(form, "notice"), "D", out var noticeId))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var notices = context.RequestServices.GetService<INotices>();
        if (notices is null || !await notices.MarkReadAsync(session.SubjectId, noticeId, context.RequestAborted))
        {
            // The same answer for another account's notice and for none at all: the page tells nobody which ids exist.
            var body = $"""
                <p class="alert" role="alert" id="notice-not-found">{Html.E(UiText.Get("notices.not_found", language))}</p>
                <p><a id="notices-link" href="{Path}">{Html.E(UiText.Get("notices.back", language))}</a></p>
                """;
            return Html.Page(context, language, UiText.Get("status.not_found.title", language), body, StatusCodes.Status404NotFound,
                nav: await PatientNav.RenderAsync(context, language, session));
        }

        return Results.Redirect(Path);
    }

    /// <summary>A notice in words, from its facts: a partner by its display name, times in UTC, dates as a patient writes them.</summary>
    internal static string Sentence(NoticeFacts facts, IReadOnlyDictionary<string, string> partners, string language)
    {
        var key = "notice." + NoticeKinds.Name(facts.Kind);
        var partner = facts.ClientId is null ? null : partners.GetValueOrDefault(facts.ClientId, facts.ClientId);
        var reference = facts.RequestId?.ToString("D") ?? "";
        return facts.Kind switch
        {
            NoticeKind.BreakGlassAccess when partner is null => UiText.Get(key + ".unnamed", language, Time(facts.OccurredAt)),
            NoticeKind.BreakGlassAccess => UiText.Get(key, language, Time(facts.OccurredAt), partner),
            NoticeKind.RequestReceived or NoticeKind.RequestExtended => UiText.Get(key, language, reference, Date(facts.DeadlineAt, language)),
            NoticeKind.RequestCompleted => UiText.Get(key, language, reference, Date(facts.OccurredAt, language)),
            NoticeKind.PartnerErasure => UiText.Get(key, language, partner ?? "", Date(facts.OccurredAt, language)),
            _ => throw new ArgumentOutOfRangeException(nameof(facts), facts.Kind, "Not a notice kind."),
        };
    }

    private static string Time(DateTimeOffset? value) => value is { } at ? PatientFlow.Time(at) : "";

    // "1er avril 2030", "2 avril 2030"; "1 April 2030".
    private static string Date(DateTimeOffset? value, string language)
    {
        if (value is not { } at)
        {
            return "";
        }

        var date = at.UtcDateTime;
        var english = language == UiLanguage.English;
        var day = date.Day == 1 && !english ? "1er" : date.Day.ToString(CultureInfo.InvariantCulture);
        return day + " " + date.ToString("MMMM yyyy", CultureInfo.GetCultureInfo(english ? "en-GB" : "fr-FR"));
    }

    // Removed partners too: an erasure is often a partner's last word.
    private static async Task<Dictionary<string, string>> PartnerNamesAsync(ComplianceDbContext db, IReadOnlyList<Notice> notices, CancellationToken cancellationToken)
    {
        var ids = notices.Select(n => n.Facts.ClientId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        return await db.Set<Client>().AsNoTracking()
            .Where(c => ids.Contains(c.ClientId))
            .Select(c => new { c.ClientId, c.DisplayName })
            .ToDictionaryAsync(c => c.ClientId, c => string.IsNullOrWhiteSpace(c.DisplayName) ? c.ClientId : c.DisplayName, StringComparer.Ordinal, cancellationToken);
    }
}
