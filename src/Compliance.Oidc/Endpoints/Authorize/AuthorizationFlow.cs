using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Accounts.Factors;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary>
/// Takes a valid authorization request to its end: sign-in if needed, consent if needed, then a code sent to the
/// registered redirect URI with <c>iss</c> (RFC 9207). The same path serves the first request and every resumption.
/// </summary>
internal sealed class AuthorizationFlow(
    InteractionProtector interactions,
    IConsentDecisions consents,
    IPairwiseSubjects subjects,
    SessionStore sessions,
    ComplianceDbContext db,
    IdTokenHints hints,
    SecondFactors secondFactors,
    IOptions<OidcOptions> options,
    TimeProvider time,
    ILogger<AuthorizationFlow> logger)
{
    /// <summary>
    /// The one decision that gates every authorization code, whichever page asks for it: the session is open on the
    /// server and its account exists (checked when the cookie is read), <c>prompt</c>, <c>max_age</c> and
    /// <c>id_token_hint</c> are honoured, the acr the client and the request ask for is met (by a step-up of the same
    /// session when a password is not enough), and the consent covers the scopes.
    /// <paramref name="consentGiven"/> is true only when the consent page has just recorded the patient's yes for this
    /// request in this session: it answers <c>prompt=consent</c>, nothing else.
    /// </summary>
    public async Task<IResult> ContinueAsync(HttpContext context, AuthorizationRequest request, Client client, bool consentGiven = false)
    {
        if (request.IdTokenHint is { } hint)
        {
            // Checked once; the later stages carry only the subject it names.
            var hinted = (await hints.ReadAsync(hint, client.ClientId, context.RequestAborted)).IdToken?.Subject;
            if (hinted is null)
            {
                return Error(request, OAuthErrors.InvalidRequest, "id_token_hint is not an ID token this provider issued to this client.");
            }

            request = request with { IdTokenHint = null, HintSubject = hinted };
        }

        var session = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        var now = time.GetUtcNow();

        // prompt=login and an exceeded max_age demand a fresh sign-in. Once the patient was sent to sign in for that,
        // a session other than the one present then satisfies it (auth_time has a one-second grain, max_age may be 0),
        // or, when max_age sent them to the second factor alone, the same session authenticated again since.
        var freshSignInDue = request.LoginPrompted
            ? session is null || (session.SessionId == request.SessionBeforeLogin && !(request.FreshByStepUp && session.AuthTime > request.AuthTimeBeforeLogin))
            : request.Prompts("login") || (request.MaxAge is { } maxAge && session is not null && session.AuthTime.AddSeconds(maxAge) < now);

        // id_token_hint names the patient the partner expects: another patient's session does not answer for them.
        if (!freshSignInDue && session is not null && request.HintSubject is not null && !request.LoginPrompted
            && await subjects.SubjectForAsync(session.SubjectId, client.Sector, context.RequestAborted) != request.HintSubject)
        {
            if (request.Prompts("none"))
            {
                return Error(request, OAuthErrors.LoginRequired, "The signed-in patient is not the one id_token_hint names.");
            }

            freshSignInDue = true;
        }

        if (session is null || freshSignInDue)
        {
            if (request.Prompts("none"))
            {
                return Error(request, OAuthErrors.LoginRequired, "The patient is not signed in.");
            }

            // An exceeded max_age, for a patient with a second factor, asks for that factor again, not the whole sign-in.
            var byStepUp = session is not null && !request.LoginPrompted && !request.Prompts("login") && request.HintSubject is null
                && await secondFactors.AnyAsync(session.SubjectId, context.RequestAborted);
            var pending = freshSignInDue && !request.LoginPrompted
                ? request with { LoginPrompted = true, SessionBeforeLogin = session?.SessionId, AuthTimeBeforeLogin = session?.AuthTime, FreshByStepUp = byStepUp }
                : request;
            return Results.Redirect($"{(byStepUp ? StepUpPage.Path : AccountEndpoints.SignInPath)}?interaction={Uri.EscapeDataString(interactions.Protect(pending))}");
        }

        var required = Session.Stronger(client.MinimumAcr, Session.Weakest(request.AcrValues));
        if (!Session.Satisfies(session.Acr, required))
        {
            if (!Session.Reachable.Contains(required, StringComparer.Ordinal))
            {
                return Error(request, OAuthErrors.UnmetAuthenticationRequirements, $"acr {required} is not offered here; the highest is {Session.Reachable[^1]}.");
            }

            // A step-up: the second factor only (set up first if the patient has none), then back here.
            return request.Prompts("none")
                ? Error(request, OAuthErrors.InteractionRequired, $"acr {required} needs a second factor; the sign-in reached {session.Acr}.")
                : Results.Redirect($"{StepUpPage.Path}?interaction={Uri.EscapeDataString(interactions.Protect(request))}");
        }

        if (client.RequireConsent)
        {
            var allowed = await consents.AllowedScopesAsync(session.SubjectId, client.ClientId, context.RequestAborted);
            if (!request.Scopes.All(allowed.Contains) || (request.Prompts("consent") && !consentGiven))
            {
                return request.Prompts("none")
                    ? Error(request, OAuthErrors.ConsentRequired, "The patient has not consented to these scopes.")
                    : Results.Redirect($"{AuthorizeEndpointPaths.Consent}?interaction={Uri.EscapeDataString(interactions.ProtectForConsent(request, session.SessionId))}");
            }
        }

        return await IssueCodeAsync(request, session, context.RequestAborted);
    }

    /// <summary>The sign-in token that restarts this request's decision (after a stale or foreign consent page).</summary>
    public string Restart(AuthorizationRequest request) => interactions.Protect(request with { ConsentSessionId = null });

    private async Task<IResult> IssueCodeAsync(AuthorizationRequest request, Session session, CancellationToken cancellationToken)
    {
        var code = TokenIssuer.NewOpaque();
        var now = time.GetUtcNow();
        var issuanceId = Guid.CreateVersion7(now);
        db.Add(new AuthorizationCode
        {
            CodeHash = TokenHashes.Of(code),
            IssuanceId = issuanceId,
            ClientId = request.ClientId,
            SubjectId = session.SubjectId,
            RedirectUri = request.RedirectUri,
            Scope = string.Join(' ', request.Scopes),
            Nonce = request.Nonce,
            CodeChallenge = request.CodeChallenge,
            SessionId = session.SessionId,
            AuthTime = session.AuthTime,
            Acr = session.Acr,
            Amr = string.Join(' ', session.Amr),
            CreatedAt = now,
            ExpiresAt = now.AddSeconds(options.Value.AuthorizationCodeLifetimeSeconds),
        });

        // The family exists from the code on, so that a withdrawal or a replay can revoke it before the exchange.
        db.Add(new TokenFamily { FamilyId = issuanceId, ClientId = request.ClientId, SubjectId = session.SubjectId, CreatedAt = now });
        if (request.Scopes.Contains("openid", StringComparer.Ordinal))
        {
            // This partner receives an ID token in this session: it is told when the session ends.
            await sessions.RecordClientAsync(session.SessionId, request.ClientId, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        OidcLog.CodeIssued(logger, request.ClientId);
        return Redirect(request.RedirectUri, new Dictionary<string, string?> { ["code"] = code, ["state"] = request.State, ["iss"] = options.Value.IssuerUri });
    }

    public IResult Error(AuthorizationRequest request, string error, string description) =>
        Error(request.ClientId, request.RedirectUri, request.State, error, description);

    public IResult Error(string clientId, string redirectUri, string? state, string error, string description)
    {
        OidcLog.AuthorizationRefused(logger, clientId, error);
        return Redirect(redirectUri, new Dictionary<string, string?>
        {
            ["error"] = error,
            ["error_description"] = description,
            ["state"] = state,
            ["iss"] = options.Value.IssuerUri,
        });
    }

    /// <summary>The page shown instead of redirecting when the client or its redirect URI cannot be trusted.</summary>
    public static IResult Untrusted(HttpContext context, string error, string description)
    {
        var language = UiLanguage.From(context.Request);
        var body = $"""
            {Html.Alert(UiText.Get("error.client", language))}
            <p><code id="error">{Html.E(error)}</code>: {Html.E(description)}</p>
            """;
        return Html.Page(context, language, UiText.Get("error.title", language), body, StatusCodes.Status400BadRequest);
    }

    private static IResult Redirect(string redirectUri, Dictionary<string, string?> parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string?>(p.Key, p.Value));
        return Results.Redirect(QueryHelpers.AddQueryString(redirectUri, present));
    }
}
