using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Staff;

/// <summary>
/// The staff sign-in: a name and a password, then the code of an authenticator app (or a recovery code). An account
/// without an app is led, after its password, to set one up (and to replace its one-time initial password): no staff
/// session exists before a second factor has been checked. Every step is counted in a per-name throttle of its own and
/// leaves an audit row.
/// </summary>
internal static class StaffSignIn
{
    public const string HomePath = "/staff";
    public const string SignInPath = "/staff/login";
    public const string SecondFactorPath = "/staff/login/second-factor";
    public const string EnrolPath = "/staff/login/enrol";
    public const string SignOutPath = "/staff/logout";

    private const string ServiceKey = "staff.service";

    public static void MapStaffSignIn(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(SignInPath, SignInPageAsync).ExcludeFromDescription();
        routes.MapPost(SignInPath, SignInAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(SecondFactorPath, SecondFactorAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(EnrolPath, EnrolAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(SignOutPath, SignOutAsync).ExcludeFromDescription().RequireAuthorization(StaffPolicies.Staff)
            .RequireRateLimiting(OidcRateLimits.Interactive);
    }

    /// <summary>
    /// A path of this service to return to after signing in, or null: only a local path (<c>/…</c>, not <c>//…</c> nor
    /// <c>/\…</c>), printable ASCII, at most 512 characters, so that the sign-in page never redirects elsewhere.
    /// </summary>
    public static string? LocalPath(string? value) =>
        value is { Length: > 0 and <= 512 } && value[0] == '/' && (value.Length == 1 || value[1] is not ('/' or '\\'))
        && value.All(c => c is > ' ' and < '\u007f' and not '\\')
            ? value
            : null;

    private static async Task<IResult> SignInPageAsync(HttpContext context, IAntiforgery antiforgery)
    {
        var language = UiLanguage.From(context.Request);
        var returnPath = LocalPath(context.Request.Query["return"].Count == 1 ? context.Request.Query["return"][0] : null);
        if (StaffSession.From((await context.AuthenticateAsync(StaffSession.Scheme)).Principal) is not null)
        {
            return Results.Redirect(returnPath ?? HomePath);
        }

        return SignInForm(context, antiforgery, language, returnPath, error: null);
    }

    private static async Task<IResult> SignInAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        ComplianceDbContext db,
        SignInThrottle throttle,
        TotpFactors totp,
        StaffPendingSignIns pendings,
        IAuditTrail trail,
        IOptions<OidcOptions> options,
        ILogger<StaffAccount> logger)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        if (form is null)
        {
            return Html.ErrorPage(context, language, "error.form", ServiceKey);
        }

        var name = AccountEndpoints.Field(form, "name") ?? "";
        var password = AccountEndpoints.Field(form, "password") ?? "";
        var returnPath = LocalPath(AccountEndpoints.Field(form, "return"));

        // The slot is taken before anything is looked up, for any name: a locked name gets the same answer, existing or not.
        var attempt = await throttle.TakeAsync(name, SignInThrottle.StaffHashPurpose, context.RequestAborted);
        if (!attempt.Permitted)
        {
            await RefuseAsync(trail, logger, AuditActor.Anonymous, "password", "locked_out", attempt.Key, context.RequestAborted);
            return Locked(context, antiforgery, language, returnPath, attempt);
        }

        var normalized = name.ToUpperInvariant();
        var account = StaffAdministration.IsValidName(name)
            ? await db.Set<StaffAccount>().FirstOrDefaultAsync(s => s.NormalizedUserName == normalized, context.RequestAborted)
            : null;

        // An unknown name costs a real hash check too, so that the time taken does not tell which names exist.
        var verdict = StaffPasswords.Hasher.VerifyHashedPassword(account ?? new StaffAccount(), account?.PasswordHash ?? StaffPasswords.DummyHash, password);
        if (account is null || verdict == PasswordVerificationResult.Failed)
        {
            await RefuseAsync(trail, logger, AuditActor.Anonymous, "password", "wrong_credentials", attempt.Key, context.RequestAborted);
            return SignInForm(context, antiforgery, language, returnPath, UiText.Get("staff.signin.failed", language), StatusCodes.Status401Unauthorized);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            account.PasswordHash = StaffPasswords.Hasher.HashPassword(account, password);
            await db.SaveChangesAsync(context.RequestAborted);
        }

        // The password alone opens nothing: the throttle's count goes on until the second factor checks out.
        if (await totp.IsEnrolledAsync(account.Id, context.RequestAborted))
        {
            var pending = pendings.Protect(new StaffPendingSignIn(account.Id, name, StaffStep.SecondFactor, returnPath));
            return SecondFactorForm(context, antiforgery, language, pending, error: null);
        }

        // No second factor yet: refused as a sign-in, and led to set one up, which is the only way on.
        await RefuseAsync(trail, logger, AuditActor.Staff(account.Id), "password", "no_second_factor", null, context.RequestAborted);
        var enrolment = await totp.BeginAsync(account.Id, account.UserName, context.RequestAborted);
        if (enrolment is null)
        {
            // Enrolled between the two reads: the code step, as for any enrolled account.
            var pending = pendings.Protect(new StaffPendingSignIn(account.Id, name, StaffStep.SecondFactor, returnPath));
            return SecondFactorForm(context, antiforgery, language, pending, error: null);
        }

        var token = pendings.Protect(new StaffPendingSignIn(account.Id, name, StaffStep.Enrolment, returnPath));
        return EnrolForm(context, antiforgery, language, token, enrolment, account.PasswordChangeRequired, error: null);
    }

    private static async Task<IResult> SecondFactorAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        ComplianceDbContext db,
        SignInThrottle throttle,
        TotpFactors totp,
        RecoveryCodes recovery,
        StaffPendingSignIns pendings,
        StaffSessionStore sessions,
        IAuditTrail trail,
        TimeProvider time,
        IOptions<OidcOptions> options,
        ILogger<StaffAccount> logger)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var token = form is null ? null : AccountEndpoints.Field(form, "pending");
        var pending = pendings.Unprotect(token, StaffStep.SecondFactor);
        if (form is null || pending is null)
        {
            // Expired, forged, or another step's: the password step again, never a session.
            return SignInForm(context, antiforgery, language, null, UiText.Get("staff.step_expired", language), StatusCodes.Status400BadRequest);
        }

        var actor = AuditActor.Staff(pending.StaffId);
        var attempt = await throttle.TakeAsync(pending.Name, SignInThrottle.StaffHashPurpose, context.RequestAborted);
        if (!attempt.Permitted)
        {
            await RefuseAsync(trail, logger, actor, "second_factor", "locked_out", null, context.RequestAborted);
            return Locked(context, antiforgery, language, pending.ReturnPath, attempt);
        }

        var recoveryCode = AccountEndpoints.Field(form, "recovery_code");
        var usedRecovery = !string.IsNullOrWhiteSpace(recoveryCode);
        var verdict = usedRecovery
            ? await recovery.RedeemAsync(pending.StaffId, recoveryCode, context.RequestAborted) ? TotpVerdict.Accepted : TotpVerdict.Wrong
            : await totp.VerifyAsync(pending.StaffId, AccountEndpoints.Field(form, "code"), context.RequestAborted);
        var account = verdict == TotpVerdict.Accepted ? await db.Set<StaffAccount>().FirstOrDefaultAsync(s => s.Id == pending.StaffId, context.RequestAborted) : null;
        if (account is null)
        {
            var reason = verdict switch
            {
                TotpVerdict.Replayed => "replayed",
                TotpVerdict.NotEnrolled => "no_second_factor",
                _ => "wrong_code",
            };
            await RefuseAsync(trail, logger, actor, "second_factor", reason, null, context.RequestAborted);
            var message = verdict == TotpVerdict.Replayed ? "second_factor.replayed" : "second_factor.wrong";
            return SecondFactorForm(context, antiforgery, language, token!, UiText.Get(message, language), StatusCodes.Status401Unauthorized);
        }

        await throttle.ResetAsync(attempt, context.RequestAborted);
        var details = new Dictionary<string, object> { ["role"] = account.Role, ["method"] = usedRecovery ? "recovery_code" : "totp" };
        if (usedRecovery)
        {
            details["remaining"] = await recovery.RemainingAsync(account.Id, context.RequestAborted);
        }

        await CompleteAsync(context, db, sessions, trail, time, logger, account, details);
        return Results.Redirect(pending.ReturnPath ?? HomePath);
    }

    private static async Task<IResult> EnrolAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        ComplianceDbContext db,
        SignInThrottle throttle,
        TotpFactors totp,
        RecoveryCodes recovery,
        StaffPendingSignIns pendings,
        StaffSessionStore sessions,
        IAuditTrail trail,
        TimeProvider time,
        IOptions<OidcOptions> options,
        ILogger<StaffAccount> logger)
    {
        var language = UiLanguage.From(context.Request);
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var token = form is null ? null : AccountEndpoints.Field(form, "pending");
        var pending = pendings.Unprotect(token, StaffStep.Enrolment);
        var account = pending is null ? null : await db.Set<StaffAccount>().FirstOrDefaultAsync(s => s.Id == pending.StaffId, context.RequestAborted);
        if (form is null || pending is null || account is null)
        {
            return SignInForm(context, antiforgery, language, null, UiText.Get("staff.step_expired", language), StatusCodes.Status400BadRequest);
        }

        var actor = AuditActor.Staff(account.Id);
        var attempt = await throttle.TakeAsync(pending.Name, SignInThrottle.StaffHashPurpose, context.RequestAborted);
        if (!attempt.Permitted)
        {
            await RefuseAsync(trail, logger, actor, "enrolment", "locked_out", null, context.RequestAborted);
            return Locked(context, antiforgery, language, pending.ReturnPath, attempt);
        }

        // The new password is checked before the code, so that a refused password does not use the code up.
        var newPassword = AccountEndpoints.Field(form, "new_password");
        if (account.PasswordChangeRequired
            && (PasswordPolicy.Check(newPassword, account.UserName) != PasswordVerdict.Accepted
                || newPassword != AccountEndpoints.Field(form, "new_password_confirm")
                || StaffPasswords.Hasher.VerifyHashedPassword(account, account.PasswordHash, newPassword!) != PasswordVerificationResult.Failed))
        {
            await RefuseAsync(trail, logger, actor, "enrolment", "password_refused", null, context.RequestAborted);
            return await EnrolAgainAsync(UiText.Get("staff.enrol.password_invalid", language));
        }

        // The app's first code and the new password are kept together or not at all.
        var passwordReplaced = account.PasswordChangeRequired;
        await using (var transaction = await db.Database.BeginTransactionAsync(context.RequestAborted))
        {
            var verdict = await totp.ConfirmAsync(account.Id, AccountEndpoints.Field(form, "code"), context.RequestAborted);
            if (verdict != TotpVerdict.Accepted)
            {
                await transaction.RollbackAsync(context.RequestAborted);
                await RefuseAsync(trail, logger, actor, "enrolment", verdict == TotpVerdict.NotEnrolled ? "no_pending_enrolment" : "wrong_code", null, context.RequestAborted);
                return await EnrolAgainAsync(UiText.Get("second_factor.wrong", language));
            }

            if (passwordReplaced)
            {
                account.PasswordHash = StaffPasswords.Hasher.HashPassword(account, newPassword!);
                account.PasswordChangeRequired = false;
                await db.SaveChangesAsync(context.RequestAborted);
            }

            await transaction.CommitAsync(context.RequestAborted);
        }

        var codes = await recovery.RegenerateAsync(account.Id, context.RequestAborted);
        await throttle.ResetAsync(attempt, context.RequestAborted);
        await trail.RecordAsync(AuditEventTypes.StaffSecondFactorEnrolled, actor, null,
            JsonSerializer.Serialize(new Dictionary<string, object> { ["recovery_codes"] = codes.Count, ["password_replaced"] = passwordReplaced }), context.RequestAborted);
        StaffLog.Enrolled(logger);
        await CompleteAsync(context, db, sessions, trail, time, logger, account, new Dictionary<string, object> { ["role"] = account.Role, ["method"] = "enrolment" });

        var body = $"""
            <p class="notice" id="staff-enrolled" role="status">{Html.E(UiText.Get("staff.enrol.done", language))}</p>
            <p id="recovery-intro">{Html.E(UiText.Get("security.recovery_intro", language))}</p>
            <ul id="recovery-codes">{string.Concat(codes.Select(c => $"<li><code>{Html.E(c)}</code></li>"))}</ul>
            <p><a id="staff-continue" href="{Html.E(pending.ReturnPath ?? HomePath)}">{Html.E(UiText.Get("staff.continue", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("staff.enrol.title", language), body, serviceKey: ServiceKey);

        // The same key again (the app already holds it), with what was wrong; no new key is made here.
        async Task<IResult> EnrolAgainAsync(string error) =>
            await totp.PendingAsync(account.Id, account.UserName, context.RequestAborted) is { } enrolment
                ? EnrolForm(context, antiforgery, language, token!, enrolment, account.PasswordChangeRequired, error, StatusCodes.Status400BadRequest)
                : SignInForm(context, antiforgery, language, null, UiText.Get("staff.step_expired", language), StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery, StaffSessionStore sessions, IAuditTrail trail, ILogger<StaffAccount> logger)
    {
        var language = UiLanguage.From(context.Request);
        var session = StaffSession.From(context.User);
        if (session is null || await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return Html.ErrorPage(context, language, "error.form", ServiceKey);
        }

        await sessions.EndAsync(session.SessionId, StaffSessionEndReasons.SignedOut, context.RequestAborted);
        await context.SignOutAsync(StaffSession.Scheme);
        await trail.RecordAsync(AuditEventTypes.StaffSignedOut, AuditActor.Staff(session.StaffId), null, null, context.RequestAborted);
        StaffLog.SignedOut(logger);
        var body = $"""
            <p class="notice" id="staff-signed-out" role="status">{Html.E(UiText.Get("staff.signout.done", language))}</p>
            <p><a id="staff-signin-link" href="{SignInPath}">{Html.E(UiText.Get("staff.signin_again", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("staff.signout", language), body, serviceKey: ServiceKey);
    }

    private static async Task CompleteAsync(
        HttpContext context, ComplianceDbContext db, StaffSessionStore sessions, IAuditTrail trail, TimeProvider time, ILogger logger,
        StaffAccount account, Dictionary<string, object> details)
    {
        var now = time.GetUtcNow();
        account.LastSignInAt = now;
        await db.SaveChangesAsync(context.RequestAborted);
        await sessions.StartAsync(context, StaffSession.New(account.Id, account.Role, now));
        await trail.RecordAsync(AuditEventTypes.StaffSignedIn, AuditActor.Staff(account.Id), null, JsonSerializer.Serialize(details), context.RequestAborted);
        StaffLog.SignedIn(logger, account.Role, (string)details["method"]);
    }

    /// <summary>
    /// A refused step, in the audit trail and the log. At the password step the actor is <c>anonymous</c> and the name
    /// appears only as the throttle's keyed hash, whether an account has it or not.
    /// </summary>
    private static async Task RefuseAsync(IAuditTrail trail, ILogger logger, string actor, string step, string reason, string? nameHash, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string> { ["step"] = step, ["reason"] = reason };
        if (nameHash is not null)
        {
            details["name_hash"] = nameHash;
        }

        await trail.RecordAsync(AuditEventTypes.StaffSignInRefused, actor, null, JsonSerializer.Serialize(details), cancellationToken);
        StaffLog.SignInRefused(logger, step, reason);
    }

    /// <summary>The same page, status and Retry-After for every locked name, existing or not, at any step.</summary>
    /// <summary>The lock the attempt met, in <c>Retry-After</c> and in words: its real length, which grows with each lock.</summary>
    private static IResult Locked(HttpContext context, IAntiforgery antiforgery, string language, string? returnPath, SignInAttempt refused)
    {
        Html.SetRetryAfter(context, refused.RetryAfter);
        return SignInForm(context, antiforgery, language, returnPath, UiText.Get("staff.signin.locked", language, UiText.Duration(refused.RetryAfter, language)),
            StatusCodes.Status429TooManyRequests);
    }

    private static IResult SignInForm(HttpContext context, IAntiforgery antiforgery, string language, string? returnPath, string? error, int status = StatusCodes.Status200OK)
    {
        var body = $"""
            <p id="staff-signin-intro">{Html.E(UiText.Get("staff.signin.intro", language))}</p>
            {Html.Alert(error)}
            <form method="post" action="{SignInPath}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("return", returnPath)}
              <label for="name">{Html.E(UiText.Get("staff.name", language))}</label>
              <input type="text" id="name" name="name" autocomplete="username" required maxlength="64" autofocus>
              <label for="password">{Html.E(UiText.Get("password", language))}</label>
              <input type="password" id="password" name="password" autocomplete="current-password" required maxlength="256">
              <button type="submit" id="signin">{Html.E(UiText.Get("signin.submit", language))}</button>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("staff.signin.title", language), body, status, serviceKey: ServiceKey);
    }

    private static IResult SecondFactorForm(HttpContext context, IAntiforgery antiforgery, string language, string pending, string? error, int status = StatusCodes.Status200OK)
    {
        var body = $"""
            <p id="second-factor-intro">{Html.E(UiText.Get("staff.second_factor.intro", language))}</p>
            {Html.Alert(error)}
            <form method="post" action="{SecondFactorPath}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("pending", pending)}
              <label for="code">{Html.E(UiText.Get("second_factor.code", language))}</label>
              <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]+" minlength="6" maxlength="6" autofocus>
              <label for="recovery_code">{Html.E(UiText.Get("second_factor.recovery", language))}</label>
              <input type="text" id="recovery_code" name="recovery_code" autocomplete="off" maxlength="32">
              <button type="submit" id="verify">{Html.E(UiText.Get("second_factor.submit", language))}</button>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("second_factor.title", language), body, status, serviceKey: ServiceKey);
    }

    private static IResult EnrolForm(
        HttpContext context, IAntiforgery antiforgery, string language, string pending, TotpEnrolment enrolment, bool passwordChange, string? error,
        int status = StatusCodes.Status200OK)
    {
        var password = passwordChange
            ? $"""
              <label for="new_password">{Html.E(UiText.Get("staff.enrol.new_password", language))}</label>
              <input type="password" id="new_password" name="new_password" autocomplete="new-password" required minlength="12" maxlength="256" aria-describedby="password-rules">
              <p class="hint" id="password-rules">{Html.E(UiText.Get("staff.enrol.password_rules", language))}</p>
              <label for="new_password_confirm">{Html.E(UiText.Get("staff.enrol.password_confirm", language))}</label>
              <input type="password" id="new_password_confirm" name="new_password_confirm" autocomplete="new-password" required minlength="12" maxlength="256">
              """
            : "";
        var body = $"""
            <p id="staff-enrol-intro">{Html.E(UiText.Get("staff.enrol.intro", language))}</p>
            {Html.Alert(error)}
            <p>{Html.E(UiText.Get("security.totp_key", language))}</p>
            <p><code id="totp-key">{Html.E(enrolment.Key)}</code></p>
            <p>{Html.E(UiText.Get("security.totp_uri", language))} <a id="totp-uri" href="{Html.E(enrolment.OtpAuthUri.AbsoluteUri)}">otpauth</a></p>
            <form method="post" action="{EnrolPath}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("pending", pending)}
              {password}
              <label for="code">{Html.E(UiText.Get("second_factor.code", language))}</label>
              <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]+" minlength="6" maxlength="6" required>
              <button type="submit" id="totp-confirm">{Html.E(UiText.Get("staff.enrol.submit", language))}</button>
            </form>
            """;
        return Html.Page(context, language, UiText.Get("staff.enrol.title", language), body, status, serviceKey: ServiceKey);
    }
}
