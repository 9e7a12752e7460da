using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// Password change. It asks for the current password, unless the session has just proved a second factor (a fresh
/// <c>eidas2</c>, see <see cref="StrongAuthentication.Freshness"/>): that is how a patient who forgot it, but still holds
/// a signed-in session and the app, gets back in. The guesses count in the sign-in throttle; the new password follows
/// the sign-up rules; every other session of the account ends, and the partners that received an ID token in them are
/// told by back-channel logout.
/// </summary>
internal static class PasswordPage
{
    public const string Path = "/account/password";

    public static void MapPasswordPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription();
        routes.MapPost(Path, ChangeAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, TimeProvider time)
    {
        var language = UiLanguage.From(context.Request);
        if (await PatientFlow.SessionAsync(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(null, Path));
        }

        return await FormAsync(context, antiforgery, language, session, IsFresh(session, time), error: null);
    }

    private static async Task<IResult> ChangeAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        UserManager<Account> users,
        SignInThrottle throttle,
        SessionStore sessions,
        IAuditTrail audit,
        TimeProvider time,
        ILogger<Account> logger)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var session = await PatientFlow.SessionAsync(context);
        var account = session is null ? null : await users.FindByIdAsync(session.SubjectId.ToString("D"));
        if (form is null || session is null || account?.UserName is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var fresh = IsFresh(session, time);
        var current = AccountEndpoints.Field(form, "current_password") ?? "";
        var password = AccountEndpoints.Field(form, "password") ?? "";
        if (password.Length is < PasswordPolicy.MinLength or > PasswordPolicy.MaxLength)
        {
            return await FormAsync(context, antiforgery, language, session, fresh, UiText.Get("password_change.invalid", language), StatusCodes.Status400BadRequest);
        }

        if (password != AccountEndpoints.Field(form, "password_confirm"))
        {
            return await FormAsync(context, antiforgery, language, session, fresh, UiText.Get("signup.mismatch", language), StatusCodes.Status400BadRequest);
        }

        // The current password is checked like a sign-in: a slot first, so that a stolen session cannot guess it.
        if (!fresh || current.Length > 0)
        {
            var attempt = await throttle.TakeAsync(account.UserName, context.RequestAborted);
            if (!attempt.Permitted)
            {
                OidcLog.SignInLockedOut(logger);
                Html.SetRetryAfter(context, attempt.RetryAfter);
                return await FormAsync(context, antiforgery, language, session, fresh,
                    UiText.Get("signin.locked", language, UiText.Duration(attempt.RetryAfter, language)), StatusCodes.Status429TooManyRequests);
            }

            if (current.Length > PasswordPolicy.MaxLength || !await users.CheckPasswordAsync(account, current))
            {
                OidcLog.SignInFailed(logger);
                return await FormAsync(context, antiforgery, language, session, fresh, UiText.Get("password_change.wrong", language), StatusCodes.Status401Unauthorized);
            }

            await throttle.ResetAsync(attempt, context.RequestAborted);
        }

        var refusals = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
        {
            refusals.AddRange((await validator.ValidateAsync(users, account, password)).Errors);
        }

        if (refusals.Count > 0)
        {
            var codes = refusals.Select(e => e.Code).ToHashSet(StringComparer.Ordinal);
            var message = codes.Contains(PasswordPolicyValidator.ContainsPseudonymCode) ? "signup.password_pseudonym"
                : codes.Contains(PasswordPolicyValidator.CommonCode) ? "signup.password_common"
                : "password_change.invalid";
            return await FormAsync(context, antiforgery, language, session, fresh, UiText.Get(message, language), StatusCodes.Status400BadRequest);
        }

        // One write: the new hash and a new security stamp.
        account.PasswordHash = users.PasswordHasher.HashPassword(account, password);
        var updated = await users.UpdateSecurityStampAsync(account);
        if (!updated.Succeeded)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var ended = await sessions.EndOtherSessionsAsync(session.SubjectId, session.SessionId, SessionEndReasons.PasswordChanged, context.RequestAborted);
        await audit.RecordAsync(AuditEventTypes.PasswordChanged, ConsentGrants.PatientActor, session.SubjectId,
            JsonSerializer.Serialize(new Dictionary<string, object> { ["other_sessions_ended"] = ended, ["with"] = fresh && current.Length == 0 ? "second_factor" : "password" }),
            context.RequestAborted);
        OidcLog.PasswordChanged(logger, ended);
        var body = $"""
            <p class="notice" id="password-changed" role="status">{Html.E(UiText.Get("password_change.done", language, ended))}</p>
            <p><a id="continue" href="{AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("security.continue", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("password_change.title", language), body, nav: await PatientNav.RenderAsync(context, language, session));
    }

    private static bool IsFresh(Session session, TimeProvider time) =>
        Session.Satisfies(session.Acr, Session.AcrSecondFactor) && session.AuthTime + StrongAuthentication.Freshness >= time.GetUtcNow();

    private static async Task<IResult> FormAsync(HttpContext context, IAntiforgery antiforgery, string language, Session session, bool fresh, string? error, int status = StatusCodes.Status200OK)
    {
        var currentRequired = fresh ? "" : " required";
        var body = $"""
            <p>{Html.E(UiText.Get(fresh ? "password_change.intro_fresh" : "password_change.intro", language))}</p>
            {Html.Alert(error)}
            <form method="post" action="{Path}">
              {Html.Antiforgery(antiforgery, context)}
              <label for="current_password">{Html.E(UiText.Get("password_change.current", language))}</label>
              <input type="password" id="current_password" name="current_password" autocomplete="current-password" maxlength="256"{currentRequired}>
              <label for="password">{Html.E(UiText.Get("password_change.new", language))}</label>
              <input type="password" id="password" name="password" autocomplete="new-password" required minlength="12" maxlength="256">
              <label for="password_confirm">{Html.E(UiText.Get("password.confirm", language))}</label>
              <input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" required minlength="12" maxlength="256">
              <button type="submit" id="password-change">{Html.E(UiText.Get("password_change.submit", language))}</button>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("password_change.title", language), body, status, nav: await PatientNav.RenderAsync(context, language, session));
    }

}
