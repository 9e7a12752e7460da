using Compliance.Oidc.Accounts.Factors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// "No health data behind a password alone": the authorization policies that every page or API showing civil identity,
/// access traces, receipts or an export, or accepting a rights request, attaches to with
/// <c>.RequireAuthorization(StrongAuthentication.Policy)</c>, and <see cref="FreshPolicy"/> for the most sensitive
/// actions (export download, erasure, replacing a factor). A patient session below <c>eidas2</c> is sent to the second
/// step (or, without a second factor, to set one up) and comes back; nothing of the page is rendered before.
/// </summary>
public static class StrongAuthentication
{
    /// <summary>The session reached <c>eidas2</c>: a password and a second factor, or a user-verified passkey.</summary>
    public const string Policy = "eidas2";

    /// <summary><see cref="Policy"/>, and its last authentication is at most <see cref="Freshness"/> old.</summary>
    public const string FreshPolicy = "eidas2-fresh";

    /// <summary>How recent a sign-in or step-up must be for <see cref="FreshPolicy"/>.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromMinutes(5);

    /// <summary>The stable code of the refusal an API caller (not a browser) gets.</summary>
    public const string StepUpRequiredCode = "step_up_required";

    internal static void AddPolicies(AuthorizationBuilder authorization) => authorization
        .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Session.Scheme).AddRequirements(new StrongSessionRequirement(null)))
        .AddPolicy(FreshPolicy, policy => policy.AddAuthenticationSchemes(Session.Scheme).AddRequirements(new StrongSessionRequirement(Freshness)));
}

/// <summary>The session's acr is at least <c>eidas2</c>, and, when <see cref="MaxAge"/> is set, its auth_time is that recent.</summary>
internal sealed record StrongSessionRequirement(TimeSpan? MaxAge) : IAuthorizationRequirement;

internal sealed class StrongSessionHandler(TimeProvider time) : AuthorizationHandler<StrongSessionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, StrongSessionRequirement requirement)
    {
        if (Session.From(context.User) is { } session
            && Session.Satisfies(session.Acr, Session.AcrSecondFactor)
            && (requirement.MaxAge is not { } maxAge || session.AuthTime + maxAge >= time.GetUtcNow()))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// What a refused page request becomes: the sign-in page without a session, the second step with a second factor,
/// its set-up without one; each comes back to the page afterwards. A caller that is not a browser navigation gets a
/// 401 or 403 problem+json with a stable code instead.
/// </summary>
internal sealed class StrongAuthenticationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !policy.Requirements.OfType<StrongSessionRequirement>().Any())
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var session = Session.From(context.User);
        var acr = session?.Acr ?? "none";
        var logger = context.RequestServices.GetRequiredService<ILogger<Account>>();
        OidcLog.StepUpRequired(logger, acr);
        if (!IsBrowserNavigation(context.Request))
        {
            var status = session is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
            await Results.Problem(
                    statusCode: status,
                    title: session is null ? "Sign-in required." : "A second factor is required.",
                    detail: "This resource requires acr eidas2 in the current session, with a recent authentication for the most sensitive actions.",
                    extensions: new Dictionary<string, object?> { ["code"] = session is null ? "login_required" : StrongAuthentication.StepUpRequiredCode })
                .ExecuteAsync(context);
            return;
        }

        var back = StepUpPage.LocalReturnPath(context.Request);
        if (session is null)
        {
            context.Response.Redirect(AccountEndpoints.SignInPath + "?return=" + Uri.EscapeDataString(back));
            return;
        }

        var factors = context.RequestServices.GetRequiredService<SecondFactors>();
        context.Response.Redirect(await factors.AnyAsync(session.SubjectId, context.RequestAborted)
            ? StepUpPage.Path + "?return=" + Uri.EscapeDataString(back)
            : SecurityPage.SetupPath + "?return=" + Uri.EscapeDataString(back));
    }

    // A page the browser navigates to or a form it posts; fetches and API clients get the machine answer.
    private static bool IsBrowserNavigation(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
