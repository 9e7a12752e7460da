using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// "Account security": the patient's second factor. Setting up an authenticator app shows its key once, is confirmed
/// by a first code, and then shows ten recovery codes once. No script: the key is text and an <c>otpauth:</c> link.
/// </summary>
internal static class SecurityPage
{
    public const string Path = "/account/security";
    private const string BeginPath = Path + "/totp";
    private const string ConfirmPath = Path + "/totp/confirm";

    public static void MapSecurityPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription();
        routes.MapPost(BeginPath, BeginAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(ConfirmPath, ConfirmAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, TotpFactors totp, RecoveryCodes recovery)
    {
        var language = UiLanguage.From(context.Request);
        if (await SessionOf(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPath);
        }

        var body = await totp.IsEnrolledAsync(session.SubjectId, context.RequestAborted)
            ? $"<p id=\"totp-status\">{Html.E(UiText.Get("security.totp_on", language))}</p>"
                + $"<p id=\"recovery-left\">{Html.E(UiText.Get("security.recovery_left", language, await recovery.RemainingAsync(session.SubjectId, context.RequestAborted)))}</p>"
                + (await recovery.LastUsedAsync(session.SubjectId, context.RequestAborted) is { } lastUsed
                    ? $"<p id=\"recovery-last-used\">{Html.E(UiText.Get("security.recovery_last_used", language, lastUsed.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)))}</p>"
                    : "")
            : $"""
                <p id="totp-status">{Html.E(UiText.Get("security.totp_off", language))}</p>
                <form method="post" action="{BeginPath}">
                  {Html.Antiforgery(antiforgery, context)}
                  <button type="submit" id="totp-begin">{Html.E(UiText.Get("security.totp_begin", language))}</button>
                </form>
                """;
        return await PageAsync(context, language, session, body);
    }

    private static async Task<IResult> BeginAsync(HttpContext context, IAntiforgery antiforgery, TotpFactors totp, UserManager<Account> users)
    {
        var language = UiLanguage.From(context.Request);
        var session = await SessionOf(context);
        if (session is null || await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var pseudonym = (await users.FindByIdAsync(session.SubjectId.ToString("D")))?.UserName ?? "";
        if (await totp.BeginAsync(session.SubjectId, pseudonym, context.RequestAborted) is not { } enrolment)
        {
            return Results.Redirect(Path);
        }

        return await PageAsync(context, language, session, ConfirmForm(context, antiforgery, language, enrolment, error: null));
    }

    private static async Task<IResult> ConfirmAsync(HttpContext context, IAntiforgery antiforgery, TotpFactors totp, RecoveryCodes recovery, UserManager<Account> users)
    {
        var language = UiLanguage.From(context.Request);
        var session = await SessionOf(context);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        if (session is null || form is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var verdict = await totp.ConfirmAsync(session.SubjectId, AccountEndpoints.Field(form, "code"), context.RequestAborted);
        if (verdict != TotpVerdict.Accepted)
        {
            var pseudonym = (await users.FindByIdAsync(session.SubjectId.ToString("D")))?.UserName ?? "";
            return await totp.PendingAsync(session.SubjectId, pseudonym, context.RequestAborted) is { } pending
                ? await PageAsync(context, language, session, ConfirmForm(context, antiforgery, language, pending, UiText.Get("second_factor.wrong", language)), StatusCodes.Status400BadRequest)
                : Results.Redirect(Path);
        }

        var codes = await recovery.RegenerateAsync(session.SubjectId, context.RequestAborted);
        var body = $"""
            <p class="notice" id="totp-enabled" role="status">{Html.E(UiText.Get("security.totp_enabled", language))}</p>
            <p id="recovery-intro">{Html.E(UiText.Get("security.recovery_intro", language))}</p>
            <ul id="recovery-codes">{string.Concat(codes.Select(c => $"<li><code>{Html.E(c)}</code></li>"))}</ul>
            """;
        return await PageAsync(context, language, session, body);
    }

    private static string ConfirmForm(HttpContext context, IAntiforgery antiforgery, string language, TotpEnrolment enrolment, string? error) => $"""
        {Html.Alert(error)}
        <p>{Html.E(UiText.Get("security.totp_key", language))}</p>
        <p><code id="totp-key">{Html.E(enrolment.Key)}</code></p>
        <p>{Html.E(UiText.Get("security.totp_uri", language))} <a id="totp-uri" href="{Html.E(enrolment.OtpAuthUri.AbsoluteUri)}">otpauth</a></p>
        <form method="post" action="{ConfirmPath}">
          {Html.Antiforgery(antiforgery, context)}
          <label for="code">{Html.E(UiText.Get("second_factor.code", language))}</label>
          <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]+" minlength="6" maxlength="6" required>
          <button type="submit" id="totp-confirm">{Html.E(UiText.Get("security.totp_confirm", language))}</button>
        </form>
        """;

    private static async Task<Session?> SessionOf(HttpContext context) =>
        Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);

    private static async Task<IResult> PageAsync(HttpContext context, string language, Session session, string body, int status = StatusCodes.Status200OK) =>
        Html.Page(context, language, UiText.Get("security.title", language), body, status, nav: await PatientNav.RenderAsync(context, language, session));
}
