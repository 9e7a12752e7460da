using Compliance.Audit.Trail;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Endpoints.Authorize;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using QRCoder;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// "Account security". The page itself is behind <see cref="StrongAuthentication.Policy"/>: it shows the factors in use
/// and lets the patient replace them (behind <see cref="StrongAuthentication.FreshPolicy"/>). Setting up the first
/// authenticator app is open to a password session, since that is how a patient reaches <c>eidas2</c> at all: the key
/// is shown once (text, link and QR code), confirmed by a first code, and ten recovery codes are then shown once. The
/// confirmation raises the session to <c>eidas2</c>, and the patient goes back where the policy or a partner sent them
/// from. No script.
/// </summary>
internal static class SecurityPage
{
    public const string Path = "/account/security";
    public const string SetupPath = Path + "/setup";
    private const string BeginPath = Path + "/totp";
    private const string ConfirmPath = Path + "/totp/confirm";
    private const string RemovePath = Path + "/totp/remove";
    private const string RegeneratePath = Path + "/recovery-codes";
    private const string EndOthersPath = Path + "/sessions/end-others";

    public static void MapSecurityPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.Policy);
        routes.MapGet(SetupPath, SetupAsync).ExcludeFromDescription();
        routes.MapPost(BeginPath, BeginAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(ConfirmPath, ConfirmAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(RegeneratePath, RegenerateAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.FreshPolicy);
        routes.MapPost(RemovePath, RemoveAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.FreshPolicy);
        routes.MapPost(EndOthersPath, EndOthersAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.Policy);
    }

    /// <summary>The set-up page, coming back to an authorization request or a patient page afterwards.</summary>
    public static string SetupPathFor(string? interaction, string? back) =>
        interaction is not null ? $"{SetupPath}?interaction={Uri.EscapeDataString(interaction)}"
        : back is not null ? $"{SetupPath}?return={Uri.EscapeDataString(back)}"
        : SetupPath;

    private static async Task<IResult> ShowAsync(
        HttpContext context, IAntiforgery antiforgery, SecondFactors factors, RecoveryCodes recovery, Passkeys passkeys, SignInHistory history, SessionStore sessions)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        if (!await factors.AnyAsync(session.SubjectId, context.RequestAborted))
        {
            // An eidas2 session whose factors were removed since: the set-up again.
            return Results.Redirect(SetupPath);
        }

        var app = await factors.HasTotpAsync(session.SubjectId, context.RequestAborted)
            ? await AppSectionAsync(context, antiforgery, language, session, recovery)
            : BeginForm(context, antiforgery, language, interaction: null, back: null);
        var body = $"""
            {app}
            {PasskeyPages.List(context, antiforgery, language, await passkeys.ListAsync(session.SubjectId, context.RequestAborted))}
            <p class="hint">{Html.E(UiText.Get("passkey.intro", language))}</p>
            {PasskeyPages.RegisterForm(context, antiforgery, language, interaction: null, back: null)}
            <p><a id="password-change-link" href="{PasswordPage.Path}">{Html.E(UiText.Get("password_change.title", language))}</a></p>
            {RecentSignIns(language, await history.RecentAsync(session.SubjectId, 10, context.RequestAborted))}
            <p id="other-sessions">{Html.E(UiText.Get("security.other_sessions", language, await sessions.CountOtherOpenAsync(session.SubjectId, session.SessionId, context.RequestAborted)))}</p>
            <form method="post" action="{EndOthersPath}">
              {Html.Antiforgery(antiforgery, context)}
              <button type="submit" id="end-other-sessions" class="secondary">{Html.E(UiText.Get("security.end_others", language))}</button>
            </form>
            """;
        return await PageAsync(context, language, session, body, passkeys: true);
    }

    private static string RecentSignIns(string language, IReadOnlyList<RecentSignIn> recent) => recent.Count == 0 ? "" : $"""
        <h2>{Html.E(UiText.Get("security.recent", language))}</h2>
        <ul id="recent-sign-ins">{string.Concat(recent.Select(r => $"<li>{Html.E(PatientFlow.Time(r.At))} (UTC) · {Html.E(r.Browser == "other" ? UiText.Get("security.browser_other", language) : r.Browser)} · {Html.E(r.Methods)} · <span class=\"{(r.NewNetwork ? "network-new" : "network-usual")}\">{Html.E(UiText.Get(r.NewNetwork ? "security.network_new" : "security.network_usual", language))}</span></li>"))}</ul>
        <p class="hint">{Html.E(UiText.Get("security.recent_hint", language))}</p>
        """;

    private static async Task<IResult> EndOthersAsync(HttpContext context, IAntiforgery antiforgery, SessionStore sessions)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        if (await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var ended = await sessions.EndOtherSessionsAsync(session.SubjectId, session.SessionId, SessionEndReasons.SignedOut, context.RequestAborted);
        var body = $"""
            <p class="notice" id="others-ended" role="status">{Html.E(UiText.Get("security.others_ended", language, ended))}</p>
            <p><a id="continue" href="{Path}">{Html.E(UiText.Get("security.continue", language))}</a></p>
            """;
        return await PageAsync(context, language, session, body);
    }

    /// <summary>The authenticator app in use: recovery codes left and last used, and the fresh-step-up actions.</summary>
    private static async Task<string> AppSectionAsync(HttpContext context, IAntiforgery antiforgery, string language, Session session, RecoveryCodes recovery)
    {
        var lastUsed = await recovery.LastUsedAsync(session.SubjectId, context.RequestAborted);
        return $"""
            <p id="totp-status">{Html.E(UiText.Get("security.totp_on", language))}</p>
            <p id="recovery-left">{Html.E(UiText.Get("security.recovery_left", language, await recovery.RemainingAsync(session.SubjectId, context.RequestAborted)))}</p>
            {(lastUsed is { } used ? $"<p id=\"recovery-last-used\">{Html.E(UiText.Get("security.recovery_last_used", language, PatientFlow.Time(used)))}</p>" : "")}
            <form method="post" action="{RegeneratePath}">
              {Html.Antiforgery(antiforgery, context)}
              <p class="hint">{Html.E(UiText.Get("security.recovery_regenerate_hint", language))}</p>
              <button type="submit" id="recovery-regenerate">{Html.E(UiText.Get("security.recovery_regenerate", language))}</button>
            </form>
            <form method="post" action="{RemovePath}">
              {Html.Antiforgery(antiforgery, context)}
              <p class="hint">{Html.E(UiText.Get("security.totp_remove_hint", language))}</p>
              <button type="submit" id="totp-remove" class="secondary">{Html.E(UiText.Get("security.totp_remove", language))}</button>
            </form>
            """;
    }

    private static string BeginForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back) => $"""
        <p id="totp-status">{Html.E(UiText.Get("security.totp_off", language))}</p>
        <form method="post" action="{BeginPath}">
          {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}
          <button type="submit" id="totp-begin">{Html.E(UiText.Get("security.totp_begin", language))}</button>
        </form>
        """;

    private static async Task<IResult> SetupAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, SecondFactors factors, string? interaction, string? @return)
    {
        var request = interactions.Unprotect(interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var back = StepUpPage.SafeReturn(@return);
        if (await PatientFlow.SessionAsync(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(request is null ? null : interaction, back ?? SetupPath));
        }

        if (await factors.AnyAsync(session.SubjectId, context.RequestAborted))
        {
            return Results.Redirect(Path);
        }

        interaction = request is null ? null : interaction;
        var body = $"""
            {(request is null ? "" : $"<p id=\"setup-required\">{Html.E(UiText.Get("security.setup_required", language))}</p>")}
            {BeginForm(context, antiforgery, language, interaction, back)}
            <p class="hint">{Html.E(UiText.Get("passkey.intro", language))}</p>
            {PasskeyPages.RegisterForm(context, antiforgery, language, interaction, back)}
            <p><a id="password-change-link" href="{PasswordPage.Path}">{Html.E(UiText.Get("password_change.title", language))}</a></p>
            """;
        return await PageAsync(context, language, session, body, formTarget: request?.RedirectUri, passkeys: true);
    }

    private static async Task<IResult> BeginAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, TotpFactors totp, UserManager<Account> users)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var (interaction, request, back) = PatientFlow.Continuation(form, interactions);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var session = await PatientFlow.SessionAsync(context);
        if (session is null || form is null || !await MayAddFactorAsync(context, session))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var pseudonym = (await users.FindByIdAsync(session.SubjectId.ToString("D")))?.UserName ?? "";
        if (await totp.BeginAsync(session.SubjectId, pseudonym, context.RequestAborted) is not { } enrolment)
        {
            // One authenticator at a time: replacing it starts with removing it, behind a fresh step-up.
            return Results.Redirect(Path);
        }

        return await PageAsync(context, language, session, ConfirmForm(context, antiforgery, language, enrolment, interaction, back, error: null), formTarget: request?.RedirectUri);
    }

    private static async Task<IResult> ConfirmAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        InteractionProtector interactions,
        TotpFactors totp,
        RecoveryCodes recovery,
        UserManager<Account> users,
        SessionStore sessions,
        IAuditTrail audit)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var (interaction, request, back) = PatientFlow.Continuation(form, interactions);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var session = await PatientFlow.SessionAsync(context);
        if (session is null || form is null || !await MayAddFactorAsync(context, session))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var verdict = await totp.ConfirmAsync(session.SubjectId, AccountEndpoints.Field(form, "code"), context.RequestAborted);
        if (verdict != TotpVerdict.Accepted)
        {
            var pseudonym = (await users.FindByIdAsync(session.SubjectId.ToString("D")))?.UserName ?? "";
            return await totp.PendingAsync(session.SubjectId, pseudonym, context.RequestAborted) is { } pending
                ? await PageAsync(context, language, session, ConfirmForm(context, antiforgery, language, pending, interaction, back, UiText.Get("second_factor.wrong", language)), StatusCodes.Status400BadRequest, request?.RedirectUri)
                : Results.Redirect(Path);
        }

        // The password opened the session and the first code just proved the app: that is eidas2.
        await sessions.StepUpAsync(context, session, Session.SteppedUp(session.Amr, "otp"), Session.AcrSecondFactor);
        await audit.RecordAsync(AuditEventTypes.SecondFactorEnabled, ConsentGrants.PatientActor, session.SubjectId, """{"method":"totp"}""", context.RequestAborted);
        var codes = await recovery.RegenerateAsync(session.SubjectId, context.RequestAborted);
        var next = interaction is not null ? $"{AuthorizeEndpointPaths.Resume}?interaction={Uri.EscapeDataString(interaction)}" : back ?? Path;
        var body = $"""
            <p class="notice" id="totp-enabled" role="status">{Html.E(UiText.Get("security.totp_enabled", language))}</p>
            {RecoveryCodeList(language, codes)}
            <p><a id="continue" href="{Html.E(next)}">{Html.E(UiText.Get("security.continue", language))}</a></p>
            """;
        return await PageAsync(context, language, session, body, formTarget: request?.RedirectUri);
    }

    private static async Task<IResult> RegenerateAsync(HttpContext context, IAntiforgery antiforgery, RecoveryCodes recovery, IAuditTrail audit)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        if (await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var codes = await recovery.RegenerateAsync(session.SubjectId, context.RequestAborted);
        await audit.RecordAsync(AuditEventTypes.RecoveryCodesRegenerated, ConsentGrants.PatientActor, session.SubjectId, null, context.RequestAborted);
        var body = $"""
            <p class="notice" id="recovery-regenerated" role="status">{Html.E(UiText.Get("security.recovery_regenerated", language))}</p>
            {RecoveryCodeList(language, codes)}
            <p><a id="continue" href="{Path}">{Html.E(UiText.Get("security.continue", language))}</a></p>
            """;
        return await PageAsync(context, language, session, body);
    }

    private static async Task<IResult> RemoveAsync(HttpContext context, IAntiforgery antiforgery, TotpFactors totp, RecoveryCodes recovery, IAuditTrail audit)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        if (await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        await totp.RemoveAsync(session.SubjectId, context.RequestAborted);
        await recovery.RemoveAllAsync(session.SubjectId, context.RequestAborted);
        await audit.RecordAsync(AuditEventTypes.SecondFactorRemoved, ConsentGrants.PatientActor, session.SubjectId, """{"method":"totp"}""", context.RequestAborted);
        return Results.Redirect(SetupPath);
    }

    /// <summary>
    /// A first factor may be set up from a password session; once the account has one, adding another needs eidas2, or a
    /// password alone could add its own app to an account that a passkey protects, and reach eidas2 with it.
    /// </summary>
    internal static async Task<bool> MayAddFactorAsync(HttpContext context, Session session) =>
        Session.Satisfies(session.Acr, Session.AcrSecondFactor)
        || !await context.RequestServices.GetRequiredService<SecondFactors>().AnyAsync(session.SubjectId, context.RequestAborted);

    private static string RecoveryCodeList(string language, IReadOnlyList<string> codes) => $"""
        <p id="recovery-intro">{Html.E(UiText.Get("security.recovery_intro", language))}</p>
        <ul id="recovery-codes">{string.Concat(codes.Select(c => $"<li><code>{Html.E(c)}</code></li>"))}</ul>
        """;

    private static string ConfirmForm(HttpContext context, IAntiforgery antiforgery, string language, TotpEnrolment enrolment, string? interaction, string? back, string? error) => $"""
        {Html.Alert(error)}
        <p>{Html.E(UiText.Get("security.totp_key", language))}</p>
        <figure id="totp-qr" aria-label="{Html.E(UiText.Get("security.totp_qr", language))}">{QrSvg(enrolment.OtpAuthUri)}</figure>
        <p><code id="totp-key">{Html.E(enrolment.Key)}</code></p>
        <p>{Html.E(UiText.Get("security.totp_uri", language))} <a id="totp-uri" href="{Html.E(enrolment.OtpAuthUri.AbsoluteUri)}">otpauth</a></p>
        <form method="post" action="{ConfirmPath}">
          {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}
          <label for="code">{Html.E(UiText.Get("second_factor.code", language))}</label>
          <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]+" minlength="6" maxlength="6" required>
          <button type="submit" id="totp-confirm">{Html.E(UiText.Get("security.totp_confirm", language))}</button>
        </form>
        """;

    /// <summary>The enrolment URI as an inline SVG QR code: markup only, so the pages' CSP (no script, no inline style) holds.</summary>
    internal static string QrSvg(Uri otpAuthUri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(otpAuthUri.AbsoluteUri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4, "#000000", "#ffffff", drawQuietZones: true, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
    }

    private static async Task<IResult> PageAsync(HttpContext context, string language, Session session, string body, int status = StatusCodes.Status200OK, string? formTarget = null, bool passkeys = false) =>
        Html.Page(context, language, UiText.Get("security.title", language), body, status, formTarget, nav: await PatientNav.RenderAsync(context, language, session), passkeys: passkeys);
}
