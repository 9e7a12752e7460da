using System.Text.RegularExpressions;
using Compliance.Audit.Trail;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Endpoints.Authorize;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Accounts;

/// <summary>Pseudonymous sign-up and sign-in pages. No e-mail, no civil data: a pseudonym and a password.</summary>
internal static partial class AccountEndpoints
{
    public const string SignInPath = "/account/login";
    public const string SignUpPath = "/account/signup";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/account").ExcludeFromDescription();
        group.MapGet("/login", SignInPageAsync);
        group.MapPost("/login", SignInAsync).RequireRateLimiting(OidcRateLimits.Interactive);
        group.MapPost("/login/second-factor", SecondFactorAsync).RequireRateLimiting(OidcRateLimits.Interactive);
        group.MapGet("/signup", SignUpPageAsync);
        group.MapPost("/signup", SignUpAsync).RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> SignInPageAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, ClientRegistry clients, string? interaction, string? @return)
    {
        var request = interactions.Unprotect(interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var clientName = request is null ? null : (await clients.FindAsync(request.ClientId, context.RequestAborted))?.DisplayName;
        return SignInForm(context, antiforgery, language, interaction, request?.RedirectUri, clientName, error: null, nav: await PatientNav.RenderAsync(context, language), back: StepUpPage.SafeReturn(@return));
    }

    /// <summary>The sign-in page for an authorization request, or for a patient page to come back to.</summary>
    public static string SignInPathFor(string? interaction, string? back) =>
        interaction is not null ? $"{SignInPath}?interaction={Uri.EscapeDataString(interaction)}"
        : back is not null ? $"{SignInPath}?return={Uri.EscapeDataString(back)}"
        : SignInPath;

    private static async Task<IResult> SignInAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        SignInManager<Account> signIn,
        UserManager<Account> users,
        SignInThrottle throttle,
        InteractionProtector interactions,
        TimeProvider time,
        IOptions<OidcOptions> options,
        ILogger<Account> logger)
    {
        var form = await ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : Field(form, "interaction");
        var language = UiLanguage.From(context.Request, interactions.Unprotect(interaction)?.UiLocale);
        if (form is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var pseudonym = Field(form, "pseudonym") ?? "";
        var password = Field(form, "password") ?? "";
        var back = StepUpPage.SafeReturn(Field(form, "return"));

        // The slot is taken before anything is looked up or checked, for any pseudonym, existing or not: a locked one is
        // refused at once with the same page, status and timing, whether an account has that pseudonym or not.
        var attempt = await throttle.TakeAsync(pseudonym, context.RequestAborted);
        if (!attempt.Permitted)
        {
            OidcLog.SignInLockedOut(logger);
            return Locked(attempt);
        }

        var account = pseudonym.Length is > 0 and <= 64 ? await users.FindByNameAsync(pseudonym) : null;
        if (account is null)
        {
            // Spend the time a real check would, so that response times do not tell which pseudonyms exist.
            users.PasswordHasher.VerifyHashedPassword(new Account(), DummyHash, password);
            OidcLog.SignInFailed(logger);
            return Failed();
        }

        // lockoutOnFailure: false, the throttle above is the lockout (see AddIdentity). An account that Identity itself
        // locked (rows written before the throttle existed) gets the throttle's answer.
        var result = await signIn.CheckPasswordSignInAsync(account, password, lockoutOnFailure: false);
        if (result.IsLockedOut)
        {
            OidcLog.SignInLockedOut(logger);
            return Locked(attempt);
        }

        if (!result.Succeeded)
        {
            OidcLog.SignInFailed(logger);
            return Failed();
        }

        // With an authenticator enrolled, the password alone opens nothing: the second step starts no session until
        // its code checks out, and the throttle's count goes on until then.
        if (await context.RequestServices.GetRequiredService<TotpFactors>().IsEnrolledAsync(account.Id, context.RequestAborted))
        {
            var pending = context.RequestServices.GetRequiredService<PendingSignIns>().Protect(new PendingSignIn(account.Id, pseudonym));
            return SecondFactorForm(context, antiforgery, language, interaction, back, interactions.Unprotect(interaction)?.RedirectUri, pending, error: null);
        }

        await throttle.ResetAsync(attempt, context.RequestAborted);
        await CompleteAsync(context, users, account, Session.NewPasswordSession(account.Id, time.GetUtcNow()), time);
        OidcLog.SignedIn(logger);
        return Continue(interactions, interaction, back);

        IResult Failed() =>
            SignInForm(context, antiforgery, language, interaction, interactions.Unprotect(interaction)?.RedirectUri, null, UiText.Get("signin.failed", language), 401, back: back);

        IResult Locked(SignInAttempt refused) => LockedOut(context, antiforgery, language, interaction, back, interactions.Unprotect(interaction)?.RedirectUri, refused);
    }

    /// <summary>
    /// The same page and status for every locked pseudonym, existing or not, at either step of a sign-in, with the time
    /// the lock has left (in <c>Retry-After</c> and in words): the lock is the pseudonym's, whether an account has it or not.
    /// </summary>
    private static IResult LockedOut(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back, string? formTarget, SignInAttempt refused)
    {
        Html.SetRetryAfter(context, refused.RetryAfter);
        return SignInForm(context, antiforgery, language, interaction, formTarget, null,
            UiText.Get("signin.locked", language, UiText.Duration(refused.RetryAfter, language)), 429, back: back);
    }

    /// <summary>
    /// The second step of a sign-in: the code of the account's authenticator app. Counted in the same per-pseudonym
    /// throttle as the password, so guessing codes locks out like guessing passwords; a code is accepted once.
    /// </summary>
    private static async Task<IResult> SecondFactorAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        UserManager<Account> users,
        SignInThrottle throttle,
        InteractionProtector interactions,
        PendingSignIns pendingSignIns,
        TimeProvider time,
        ILogger<Account> logger)
    {
        var form = await ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : Field(form, "interaction");
        var back = form is null ? null : StepUpPage.SafeReturn(Field(form, "return"));
        var language = UiLanguage.From(context.Request, interactions.Unprotect(interaction)?.UiLocale);
        var token = form is null ? null : Field(form, "pending");
        var pending = pendingSignIns.Unprotect(token);
        if (form is null || pending is null)
        {
            // Expired or forged: the password step again, never a session.
            return SignInForm(context, antiforgery, language, interaction, interactions.Unprotect(interaction)?.RedirectUri, null,
                UiText.Get("second_factor.expired", language), 400, back: back);
        }

        var attempt = await throttle.TakeAsync(pending.Pseudonym, context.RequestAborted);
        if (!attempt.Permitted)
        {
            OidcLog.SignInLockedOut(logger);
            return LockedOut(context, antiforgery, language, interaction, back, interactions.Unprotect(interaction)?.RedirectUri, attempt);
        }

        var verdict = await CheckSecondFactorAsync(context, pending.AccountId, form);
        var account = verdict == TotpVerdict.Accepted ? await users.FindByIdAsync(pending.AccountId.ToString("D")) : null;
        if (account is null)
        {
            OidcLog.SignInFailed(logger);
            return SecondFactorForm(context, antiforgery, language, interaction, back, interactions.Unprotect(interaction)?.RedirectUri, token!,
                Refusal(verdict, form, language), 401);
        }

        await throttle.ResetAsync(attempt, context.RequestAborted);
        await CompleteAsync(context, users, account, Session.NewTotpSession(account.Id, time.GetUtcNow()), time);
        OidcLog.SignedIn(logger);
        return Continue(interactions, interaction, back);
    }

    /// <summary>Why a second factor was refused, in words: a spent or mistyped recovery code is not a matter of the phone's clock.</summary>
    internal static string Refusal(TotpVerdict verdict, IFormCollection form, string language) =>
        !string.IsNullOrWhiteSpace(Field(form, "recovery_code")) ? UiText.Get("second_factor.recovery_wrong", language)
        : UiText.Get(verdict == TotpVerdict.Replayed ? "second_factor.replayed" : "second_factor.wrong", language);

    /// <summary>
    /// Checks the second factor a form carries: the app's code, or a recovery code, which stands in once for it
    /// (RFC 8176 "otp": it is a one-time password too). The caller has taken a throttle slot first.
    /// </summary>
    internal static async Task<TotpVerdict> CheckSecondFactorAsync(HttpContext context, Guid accountId, IFormCollection form)
    {
        var recoveryCode = Field(form, "recovery_code");
        return string.IsNullOrWhiteSpace(recoveryCode)
            ? await context.RequestServices.GetRequiredService<TotpFactors>().VerifyAsync(accountId, Field(form, "code"), context.RequestAborted)
            : await RedeemRecoveryCodeAsync(context, accountId, recoveryCode);
    }

    /// <summary>Redeems a recovery code; its use is recorded (and shown on the security page), with how many are left.</summary>
    private static async Task<TotpVerdict> RedeemRecoveryCodeAsync(HttpContext context, Guid accountId, string typed)
    {
        var recovery = context.RequestServices.GetRequiredService<RecoveryCodes>();
        if (!await recovery.RedeemAsync(accountId, typed, context.RequestAborted))
        {
            return TotpVerdict.Wrong;
        }

        var remaining = await recovery.RemainingAsync(accountId, context.RequestAborted);
        await context.RequestServices.GetRequiredService<IAuditTrail>().RecordAsync(AuditEventTypes.RecoveryCodeUsed, Grants.ConsentGrants.PatientActor, accountId,
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, int> { ["remaining"] = remaining }), context.RequestAborted);
        return TotpVerdict.Accepted;
    }

    private static async Task CompleteAsync(HttpContext context, UserManager<Account> users, Account account, Session session, TimeProvider time)
    {
        account.LastSignInAt = time.GetUtcNow();
        await users.UpdateAsync(account);
        await context.RequestServices.GetRequiredService<SessionStore>().StartAsync(context, session);
        await context.RequestServices.GetRequiredService<SignInHistory>().RecordAsync(context, account.Id, session.Amr);
    }

    private static IResult SecondFactorForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back, string? formTarget, string pending, string? error, int status = 200)
    {
        var body = $"""
            <p id="second-factor-intro">{Html.E(UiText.Get("second_factor.intro", language))}</p>
            {Html.Alert(error)}
            <form method="post" action="{SignInPath}/second-factor">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}{Html.Hidden("pending", pending)}
              {SecondFactorFields(language)}
            </form>
            """;
        return Html.Page(context, language, UiText.Get("second_factor.title", language), body, status, formTarget);
    }

    /// <summary>The fields of a second step: the app's code, or one of the recovery codes, and the button.</summary>
    internal static string SecondFactorFields(string language) => $"""
              <label for="code">{Html.E(UiText.Get("second_factor.code", language))}</label>
              <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]+" minlength="6" maxlength="6" autofocus>
              <label for="recovery_code">{Html.E(UiText.Get("second_factor.recovery", language))}</label>
              <input type="text" id="recovery_code" name="recovery_code" autocomplete="off" maxlength="32" aria-describedby="recovery-hint">
              <p class="hint" id="recovery-hint">{Html.E(UiText.Get("second_factor.recovery_hint", language))}</p>
              <button type="submit" id="verify">{Html.E(UiText.Get("second_factor.submit", language))}</button>
        """;

    private static async Task<IResult> SignUpPageAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, string? interaction)
    {
        var request = interactions.Unprotect(interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        return SignUpForm(context, antiforgery, language, interaction, request?.RedirectUri, error: null, nav: await PatientNav.RenderAsync(context, language));
    }

    private static async Task<IResult> SignUpAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        UserManager<Account> users,
        InteractionProtector interactions,
        TimeProvider time,
        ILogger<Account> logger)
    {
        var form = await ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : Field(form, "interaction");
        var language = UiLanguage.From(context.Request, interactions.Unprotect(interaction)?.UiLocale);
        if (form is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var pseudonym = Field(form, "pseudonym") ?? "";
        var password = Field(form, "password") ?? "";
        if (!PseudonymPattern().IsMatch(pseudonym) || password.Length is < PasswordPolicy.MinLength or > PasswordPolicy.MaxLength)
        {
            return SignUpForm(context, antiforgery, language, interaction, interactions.Unprotect(interaction)?.RedirectUri, UiText.Get("signup.invalid", language), 400, pseudonym);
        }

        if (password != Field(form, "password_confirm"))
        {
            return SignUpForm(context, antiforgery, language, interaction, interactions.Unprotect(interaction)?.RedirectUri, UiText.Get("signup.mismatch", language), 400, pseudonym);
        }

        var now = time.GetUtcNow();
        var account = new Account { Id = Guid.CreateVersion7(now), UserName = pseudonym, CreatedAt = now, LastSignInAt = now, LockoutEnabled = true };
        var created = await users.CreateAsync(account, password);
        if (!created.Succeeded)
        {
            // PasswordPolicyValidator's refusals come first (Identity checks the password before the pseudonym's uniqueness).
            var codes = created.Errors.Select(e => e.Code).ToHashSet(StringComparer.Ordinal);
            var (message, status) = codes switch
            {
                _ when codes.Contains(PasswordPolicyValidator.ContainsPseudonymCode) => ("signup.password_pseudonym", 400),
                _ when codes.Contains(PasswordPolicyValidator.CommonCode) => ("signup.password_common", 400),
                _ when codes.Contains(nameof(IdentityErrorDescriber.DuplicateUserName)) => ("signup.taken", 409),
                _ => ("signup.invalid", 400),
            };
            return SignUpForm(context, antiforgery, language, interaction, interactions.Unprotect(interaction)?.RedirectUri, UiText.Get(message, language), status, pseudonym);
        }

        await context.RequestServices.GetRequiredService<SessionStore>().StartAsync(context, Session.NewPasswordSession(account.Id, now));
        OidcLog.AccountCreated(logger);
        return Continue(interactions, interaction);
    }

    private static IResult Continue(InteractionProtector interactions, string? interaction, string? back = null) =>
        interactions.Unprotect(interaction) is null
            ? Results.Redirect(back ?? SignedInPath)
            : Results.Redirect($"{AuthorizeEndpointPaths.Resume}?interaction={Uri.EscapeDataString(interaction!)}");

    public const string SignedInPath = "/account";

    private static IResult SignInForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? formTarget, string? clientName, string? error, int status = 200, string? nav = null, string? back = null)
    {
        var body = $"""
            <p>{Html.E(UiText.Get("signin.intro", language))}</p>
            {(clientName is null ? "" : $"<p id=\"signin-for\">{Html.E(UiText.Get("signin.for", language, clientName))}</p>")}
            {Html.Alert(error)}
            <form method="post" action="{SignInPath}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}
              <label for="pseudonym">{Html.E(UiText.Get("pseudonym", language))}</label>
              <input type="text" id="pseudonym" name="pseudonym" autocomplete="username" required maxlength="64" autofocus>
              <label for="password">{Html.E(UiText.Get("password", language))}</label>
              <input type="password" id="password" name="password" autocomplete="current-password" required maxlength="256">
              <button type="submit" id="signin">{Html.E(UiText.Get("signin.submit", language))}</button>
            </form>
            {PasskeyPages.SignInForm(context, antiforgery, language, interaction, back)}
            <p><a id="signup-link" href="{SignUpPath}?interaction={Uri.EscapeDataString(interaction ?? "")}">{Html.E(UiText.Get("signup.link", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get("signin.title", language), body, status, formTarget, nav, passkeys: true);
    }

    /// <summary>The sign-up form; after a refusal it keeps the typed pseudonym (encoded), never the password.</summary>
    private static IResult SignUpForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? formTarget, string? error, int status = 200, string? pseudonym = null, string? nav = null)
    {
        var typed = string.IsNullOrEmpty(pseudonym) || pseudonym.Length > 64 ? "" : $" value=\"{Html.E(pseudonym)}\"";
        var controller = PatientNav.ControllerName(context);
        var dpo = PatientNav.DpoContact(context, "dpo-contact");
        var privacy = controller is null || dpo is null ? "" : $"<p class=\"hint\" id=\"signup-controller\">{Html.E(UiText.Get("signup.controller", language, controller))} {dpo}</p>";
        var body = $"""
            <p>{Html.E(UiText.Get("signup.intro", language))}</p>
            <p id="signup-recovery"><strong>{Html.E(UiText.Get("signup.recovery", language))}</strong></p>
            {Html.Alert(error)}
            <form method="post" action="{SignUpPath}">
              {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}
              <label for="pseudonym">{Html.E(UiText.Get("pseudonym", language))}</label>
              <input type="text" id="pseudonym" name="pseudonym" autocomplete="username" required minlength="3" maxlength="32" pattern="{PseudonymHtmlPattern}" aria-describedby="signup-rules"{typed}>
              <p class="hint" id="signup-rules">{Html.E(UiText.Get("signup.rules", language))}</p>
              <label for="password">{Html.E(UiText.Get("password", language))}</label>
              <input type="password" id="password" name="password" autocomplete="new-password" required minlength="12" maxlength="256">
              <label for="password_confirm">{Html.E(UiText.Get("password.confirm", language))}</label>
              <input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" required minlength="12" maxlength="256">
              <button type="submit" id="signup">{Html.E(UiText.Get("signup.submit", language))}</button>
            </form>
            {privacy}
            {PrivacyNoticePage.Link(context, language)}
            """;
        return Html.Page(context, language, UiText.Get("signup.title", language), body, status, formTarget, nav);
    }

    /// <summary>The posted form, once its antiforgery token is checked; null when it is missing, forged or malformed.</summary>
    internal static async Task<IFormCollection?> ReadFormAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is AntiforgeryValidationException or InvalidDataException or IOException or BadHttpRequestException)
        {
            return null;
        }
    }

    internal static string? Field(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values.Count == 1 && values[0] is { Length: <= 16_384 } value ? value : null;

    // A valid hash of a random password, to verify against when no account matches.
    private static readonly string DummyHash = new PasswordHasher<Account>().HashPassword(new Account(), Guid.NewGuid().ToString());

    // The same rule for the browser's own check (HTML patterns are anchored; "-" is escaped for the v flag).
    private const string PseudonymHtmlPattern = "[A-Za-z0-9._\\-]{3,32}";

    [GeneratedRegex("^[A-Za-z0-9._-]{3,32}$")]
    private static partial Regex PseudonymPattern();
}
