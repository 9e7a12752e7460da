using System.Text.RegularExpressions;
using Compliance.Oidc.Accounts.Factors;
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

/// <summary>
/// The step-up: a patient already signed in with a password is asked for the second factor only, not for the whole
/// sign-in, when a partner (its minimum acr, or the request's <c>acr_values</c> or <c>max_age</c>) or a page (the
/// <see cref="StrongAuthentication"/> policies) needs more. The same session goes on, raised to <c>eidas2</c> with a
/// fresh auth_time, so the partners that already hold an ID token for it keep the same <c>sid</c>.
/// </summary>
internal static partial class StepUpPage
{
    public const string Path = "/account/step-up";

    public static void MapStepUpPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription();
        routes.MapPost(Path, VerifyAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
    }

    private static async Task<IResult> ShowAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, SecondFactors factors, string? interaction, string? @return)
    {
        var request = interactions.Unprotect(interaction);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var back = SafeReturn(@return);
        if (await PatientFlow.SessionAsync(context) is not { } session)
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(request is null ? null : interaction, back));
        }

        if (!await factors.AnyAsync(session.SubjectId, context.RequestAborted))
        {
            return Results.Redirect(SecurityPage.SetupPathFor(request is null ? null : interaction, back));
        }

        return await FormAsync(context, antiforgery, language, session, request is null ? null : interaction, back, request?.RedirectUri, error: null);
    }

    private static async Task<IResult> VerifyAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        InteractionProtector interactions,
        UserManager<Account> users,
        SignInThrottle throttle,
        TotpFactors totp,
        SessionStore sessions,
        IOptions<OidcOptions> options,
        ILogger<Account> logger)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var interaction = form is null ? null : AccountEndpoints.Field(form, "interaction");
        var request = interactions.Unprotect(interaction);
        interaction = request is null ? null : interaction;
        var back = form is null ? null : SafeReturn(AccountEndpoints.Field(form, "return"));
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var session = await PatientFlow.SessionAsync(context);
        if (form is null || session is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // Guessing codes here counts in the same per-pseudonym throttle as at sign-in.
        var pseudonym = (await users.FindByIdAsync(session.SubjectId.ToString("D")))?.UserName ?? "";
        var attempt = await throttle.TakeAsync(pseudonym, context.RequestAborted);
        if (!attempt.Permitted)
        {
            OidcLog.SignInLockedOut(logger);
            Html.SetRetryAfter(context, attempt.RetryAfter);
            return await FormAsync(context, antiforgery, language, session, interaction, back, request?.RedirectUri,
                UiText.Get("signin.locked", language, UiText.Duration(attempt.RetryAfter, language)), StatusCodes.Status429TooManyRequests);
        }

        var verdict = await AccountEndpoints.CheckSecondFactorAsync(context, session.SubjectId, form);
        if (verdict != TotpVerdict.Accepted)
        {
            OidcLog.SignInFailed(logger);
            return await FormAsync(context, antiforgery, language, session, interaction, back, request?.RedirectUri,
                AccountEndpoints.Refusal(verdict, form, language), StatusCodes.Status401Unauthorized);
        }

        await throttle.ResetAsync(attempt, context.RequestAborted);
        if (!await sessions.StepUpAsync(context, session, Session.SteppedUp(session.Amr, "otp"), Session.AcrSecondFactor))
        {
            // The session ended meanwhile (signed out elsewhere, account deleted): a whole sign-in again.
            return Results.Redirect(AccountEndpoints.SignInPathFor(interaction, back));
        }

        OidcLog.SteppedUp(logger);
        return PatientFlow.Next(interaction, back, SecurityPage.Path);
    }

    /// <summary>The step-up: the app's code (or a recovery code) if the account has the app, a passkey if it has one.</summary>
    private static async Task<IResult> FormAsync(HttpContext context, IAntiforgery antiforgery, string language, Session session, string? interaction, string? back, string? formTarget, string? error, int status = StatusCodes.Status200OK)
    {
        var factors = context.RequestServices.GetRequiredService<SecondFactors>();
        var totp = await factors.HasTotpAsync(session.SubjectId, context.RequestAborted)
            ? $"""
                <p id="step-up-intro">{Html.E(UiText.Get("step_up.intro", language))}</p>
                <form method="post" action="{Path}">
                  {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}
                  {AccountEndpoints.SecondFactorFields(language)}
                </form>
                """
            : "";
        var passkey = await factors.HasPasskeyAsync(session.SubjectId, context.RequestAborted)
            ? PasskeyPages.StepUpForm(context, antiforgery, language, interaction, back)
            : "";
        return Html.Page(context, language, UiText.Get("step_up.title", language), Html.Alert(error) + totp + passkey, status, formTarget, passkeys: passkey.Length > 0);
    }

    /// <summary>
    /// Where to come back to after a sign-in, a step-up or a set-up: a path of the patient pages and its query, never
    /// another origin, a scheme-relative URL or a backslash trick. Null for anything else.
    /// </summary>
    public static string? SafeReturn(string? value) => value is { Length: <= 512 } && ReturnPattern().IsMatch(value) ? value : null;

    /// <summary>The page a refused request comes back to: itself for a page, its page for a form post.</summary>
    public static string LocalReturnPath(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = HttpMethods.IsGet(request.Method) ? request.Path.Value + request.QueryString.Value : null;
        return SafeReturn(path)
            ?? (request.Path.StartsWithSegments(SecurityPage.Path, StringComparison.Ordinal) || request.Path.StartsWithSegments(PasskeyPages.RegisterPath, StringComparison.Ordinal)
                ? SecurityPage.Path
                : AccountEndpoints.SignedInPath);
    }

    [GeneratedRegex("^/account(/[A-Za-z0-9_-]+)*(\\?[A-Za-z0-9_=&%.-]*)?$")]
    private static partial Regex ReturnPattern();
}
