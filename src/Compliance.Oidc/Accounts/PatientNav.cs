using Compliance.Oidc.Endpoints;
using Compliance.Oidc.Ui;
using Compliance.Policies;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// The way back on every patient page: who is signed in, "My authorisations", the notifications (with the unread
/// count), account security and sign out. Links only, no form, so that each page's one form stays its first.
/// </summary>
internal static class PatientNav
{
    /// <summary>The header for the signed-in patient, or "" when nobody is signed in.</summary>
    public static async Task<string> RenderAsync(HttpContext context, string language)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        return session is null ? "" : await RenderAsync(context, language, session);
    }

    public static async Task<string> RenderAsync(HttpContext context, string language, Session session)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(session);
        var users = context.RequestServices.GetRequiredService<UserManager<Account>>();
        var account = await users.FindByIdAsync(session.SubjectId.ToString("D"));
        if (account?.UserName is not { } pseudonym)
        {
            return "";
        }

        return $"""
            <nav class="patient" aria-label="{Html.E(UiText.Get("nav.label", language))}">
              <p>{Html.E(UiText.Get("nav.signed_in", language))} <strong id="signed-in-pseudonym">{Html.E(pseudonym)}</strong></p>
              <a id="nav-authorizations" href="{AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("authorizations.title", language))}</a>
              {await NoticesPage.NavLinkAsync(context, language, session)}
              <a id="nav-security" href="{SecurityPage.Path}">{Html.E(UiText.Get("nav.security", language))}</a>
              <a id="nav-signout" href="{EndSessionEndpoint.Path}">{Html.E(UiText.Get("authorizations.signout", language))}</a>
            </nav>
            """;
    }

    /// <summary>The controller's name from the register of processing activities; null when no policy set is loaded.</summary>
    public static string? ControllerName(HttpContext context) =>
        context?.RequestServices.GetService<PolicySet>()?.Controller.Name is { Length: > 0 } name ? name : null;

    /// <summary>The DPO's contact from the register of processing activities, as a link; null when no policy set is loaded.</summary>
    public static string? DpoContact(HttpContext context, string id)
    {
        ArgumentNullException.ThrowIfNull(context);
        var contact = context.RequestServices.GetService<PolicySet>()?.Controller.DataProtectionOfficer.Contact;
        return string.IsNullOrWhiteSpace(contact) ? null : Html.Contact(contact, id);
    }
}
