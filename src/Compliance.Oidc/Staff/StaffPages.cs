using System.Globalization;
using System.Text;
using Compliance.Data.Model;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Staff;

/// <summary>
/// The staff space: <c>/staff</c>, a home for any signed-in staff member (who, which role, which partner, sign out),
/// and <c>/staff/accounts</c>, the staff accounts as an administrator sees them. The job dashboard and the DPO console
/// will hang from here with <see cref="StaffPolicies"/>.
/// </summary>
internal static class StaffPages
{
    public const string AccountsPath = "/staff/accounts";

    public static void MapStaffPages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(StaffSignIn.HomePath, HomeAsync).ExcludeFromDescription().RequireAuthorization(StaffPolicies.Staff);
        routes.MapGet(AccountsPath, AccountsAsync).ExcludeFromDescription().RequireAuthorization(StaffPolicies.Admin);
    }

    private static async Task<IResult> HomeAsync(HttpContext context, IAntiforgery antiforgery, ComplianceDbContext db, IOptions<StaffOptions> options)
    {
        var language = UiLanguage.From(context.Request);
        var session = StaffSession.From(context.User)!;
        var account = await db.Set<StaffAccount>().AsNoTracking().FirstAsync(s => s.Id == session.StaffId, context.RequestAborted);
        var partner = account.PartnerClientId is null
            ? UiText.Get("staff.home.no_partner", language)
            : UiText.Get("staff.home.partner", language, account.PartnerClientId);
        var links = account.Role == StaffRoles.Admin
            ? $"<p><a id=\"staff-accounts-link\" href=\"{AccountsPath}\">{Html.E(UiText.Get("staff.accounts.title", language))}</a></p>"
            : "";
        var body = $"""
            <p id="staff-name">{Html.E(UiText.Get("staff.home.name", language, account.UserName))}</p>
            <p id="staff-role">{Html.E(UiText.Get("staff.home.role", language, UiText.Get("staff.role." + account.Role, language)))}</p>
            <p id="staff-partner">{Html.E(partner)}</p>
            <p class="hint" id="staff-session">{Html.E(UiText.Get("staff.home.session", language,
                UiText.Duration(TimeSpan.FromMinutes(options.Value.SessionIdleMinutes), language),
                UiText.Duration(TimeSpan.FromHours(options.Value.SessionAbsoluteHours), language)))}</p>
            {links}
            <form method="post" action="{StaffSignIn.SignOutPath}">
              {Html.Antiforgery(antiforgery, context)}
              <button type="submit" id="staff-signout" class="secondary">{Html.E(UiText.Get("staff.signout", language))}</button>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("staff.home.title", language), body, serviceKey: "staff.service");
    }

    private static async Task<IResult> AccountsAsync(HttpContext context, StaffAdministration administration)
    {
        var language = UiLanguage.From(context.Request);
        var rows = new StringBuilder();
        foreach (var staff in await administration.ListAsync(context.RequestAborted))
        {
            rows.Append("<tr><td>").Append(Html.E(staff.Name))
                .Append("</td><td>").Append(Html.E(UiText.Get("staff.role." + staff.Role, language)))
                .Append("</td><td>").Append(Html.E(staff.PartnerClientId ?? "-"))
                .Append("</td><td>").Append(Html.E(UiText.Get(staff.SecondFactorEnrolled ? "staff.yes" : "staff.no", language)))
                .Append("</td><td>").Append(Html.E(staff.LastSignInAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? UiText.Get("staff.never", language)))
                .Append("</td></tr>");
        }

        var body = $"""
            <p id="staff-accounts-intro">{Html.E(UiText.Get("staff.accounts.intro", language))}</p>
            <table class="staff" id="staff-accounts">
              <thead><tr><th>{Html.E(UiText.Get("staff.name", language))}</th><th>{Html.E(UiText.Get("staff.accounts.role", language))}</th><th>{Html.E(UiText.Get("staff.accounts.partner", language))}</th><th>{Html.E(UiText.Get("staff.accounts.second_factor", language))}</th><th>{Html.E(UiText.Get("staff.accounts.last_sign_in", language))}</th></tr></thead>
              <tbody>{rows}</tbody>
            </table>
            <p><a id="staff-home-link" href="{StaffSignIn.HomePath}">{Html.E(UiText.Get("staff.home.title", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("staff.accounts.title", language), body, serviceKey: "staff.service");
    }
}
