using System.Text.Json.Nodes;
using Compliance.Audit.Trail;
using Compliance.Oidc.Accounts.Factors;
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
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// Passkeys on the patient pages: sign in with one (a user-verified passkey alone reaches <c>eidas2</c>), step up with one,
/// add one, rename and remove them. Each ceremony is two posts of the same form: the script asks for the options (and
/// a sealed state), lets the browser talk to the authenticator, then submits the form with the credential. Every
/// refusal is the same plain message, and is recorded in the audit trail without the credential.
/// </summary>
internal static class PasskeyPages
{
    public const string SignInPath = "/account/login/passkey";
    public const string StepUpPath = "/account/step-up/passkey";
    public const string RegisterPath = "/account/passkeys";
    private const string RenamePath = "/account/passkeys/rename";
    private const string RemovePath = "/account/passkeys/remove";
    private const string OptionsSuffix = "/options";

    public static void MapPasskeyPages(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(SignInPath + OptionsSuffix, SignInOptionsAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(SignInPath, SignInAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(StepUpPath + OptionsSuffix, StepUpOptionsAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(StepUpPath, StepUpAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(RegisterPath + OptionsSuffix, RegisterOptionsAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(RegisterPath, RegisterAsync).ExcludeFromDescription().RequireRateLimiting(OidcRateLimits.Interactive);
        routes.MapPost(RenamePath, RenameAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.Policy);
        routes.MapPost(RemovePath, RemoveAsync).ExcludeFromDescription().RequireAuthorization(StrongAuthentication.FreshPolicy);
        routes.MapGet(Html.PasskeyScriptPath, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(Script, "text/javascript; charset=utf-8");
        }).ExcludeFromDescription();
    }

    /// <summary>The sign-in form's passkey button: any discoverable passkey of this site.</summary>
    public static string SignInForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back) =>
        Form(context, antiforgery, language, SignInPath, "get", "passkey-signin", "passkey.signin", interaction, back);

    /// <summary>The step-up page's passkey button: one of the signed-in account's passkeys.</summary>
    public static string StepUpForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back) =>
        Form(context, antiforgery, language, StepUpPath, "get", "passkey-step-up", "passkey.step_up", interaction, back);

    /// <summary>The security page's "add a passkey" form, with a name for it.</summary>
    public static string RegisterForm(HttpContext context, IAntiforgery antiforgery, string language, string? interaction, string? back) =>
        Form(context, antiforgery, language, RegisterPath, "create", "passkey-add", "passkey.add", interaction, back,
            $"""<label for="passkey-name">{Html.E(UiText.Get("passkey.name", language))}</label><input type="text" id="passkey-name" name="name" maxlength="{Passkeys.MaxNameLength}" autocomplete="off">""");

    /// <summary>The list of the account's passkeys, each with its rename and remove forms.</summary>
    public static string List(HttpContext context, IAntiforgery antiforgery, string language, IReadOnlyList<PasskeySummary> passkeys)
    {
        if (passkeys.Count == 0)
        {
            return "";
        }

        var items = passkeys.Select((p, i) => $"""
            <li id="passkey-{i}">
              <strong class="passkey-name">{Html.E(p.Name)}</strong>
              <span class="hint">{Html.E(UiText.Get(p.Synced ? "passkey.synced" : "passkey.device_bound", language))} · {Html.E(UiText.Get("passkey.created", language, PatientFlow.Time(p.CreatedAt)))}{(p.LastUsedAt is { } used ? " · " + Html.E(UiText.Get("passkey.last_used", language, PatientFlow.Time(used))) : "")}</span>
              <form method="post" action="{RenamePath}">
                {Html.Antiforgery(antiforgery, context)}{Html.Hidden("id", p.Id)}
                <label for="passkey-rename-{i}">{Html.E(UiText.Get("passkey.new_name", language))}</label>
                <input type="text" id="passkey-rename-{i}" name="name" maxlength="{Passkeys.MaxNameLength}" required>
                <button type="submit" class="secondary" id="passkey-rename-submit-{i}">{Html.E(UiText.Get("passkey.rename", language))}</button>
              </form>
              <form method="post" action="{RemovePath}">
                {Html.Antiforgery(antiforgery, context)}{Html.Hidden("id", p.Id)}
                <button type="submit" class="secondary" id="passkey-remove-{i}">{Html.E(UiText.Get("passkey.remove", language))}</button>
              </form>
            </li>
            """);
        return $"""<h2>{Html.E(UiText.Get("passkey.list", language))}</h2><ul id="passkeys">{string.Concat(items)}</ul>""";
    }

    private static string Form(HttpContext context, IAntiforgery antiforgery, string language, string action, string mode, string id, string label, string? interaction, string? back, string fields = "") => $"""
        <form method="post" action="{action}" class="passkey" data-passkey="{mode}" data-options="{action}{OptionsSuffix}" data-error="{Html.E(UiText.Get("passkey.browser_failed", language))}" hidden>
          {Html.Antiforgery(antiforgery, context)}{Html.Hidden("interaction", interaction)}{Html.Hidden("return", back)}
          <input type="hidden" name="credential" value=""><input type="hidden" name="state" value="">
          {fields}
          <button type="submit" id="{id}">{Html.E(UiText.Get(label, language))}</button>
          <p class="passkey-error" role="alert" hidden></p>
        </form>
        """;

    private static async Task<IResult> SignInOptionsAsync(HttpContext context, IAntiforgery antiforgery, Passkeys passkeys)
    {
        if (await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return BadOptions();
        }

        var (options, state) = await passkeys.BeginAssertionAsync(context, account: null);
        return Options(options, state);
    }

    private static async Task<IResult> SignInAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        InteractionProtector interactions,
        Passkeys passkeys,
        UserManager<Account> users,
        SessionStore sessions,
        TimeProvider time,
        ILogger<Account> logger)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var (interaction, request, back) = PatientFlow.Continuation(form, interactions);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        if (form is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var proof = await passkeys.CompleteAssertionAsync(context, AccountEndpoints.Field(form, "credential"), AccountEndpoints.Field(form, "state"));
        var account = proof is null ? null : await users.FindByIdAsync(proof.AccountId.ToString("D"));
        if (proof is null || account is null)
        {
            await RefusedAsync(context, "sign_in", null);
            OidcLog.SignInFailed(logger);
            return Html.Page(context, language, UiText.Get("signin.title", language),
                $"""{Html.Alert(UiText.Get("passkey.refused", language))}<p><a id="signin-again" href="{Html.E(AccountEndpoints.SignInPathFor(interaction, back))}">{Html.E(UiText.Get("signin.title", language))}</a></p>""",
                StatusCodes.Status401Unauthorized);
        }

        account.LastSignInAt = time.GetUtcNow();
        await users.UpdateAsync(account);
        var session = Session.NewPasskeySession(account.Id, proof.Method, time.GetUtcNow());
        await sessions.StartAsync(context, session);
        await context.RequestServices.GetRequiredService<SignInHistory>().RecordAsync(context, account.Id, session.Amr);
        OidcLog.SignedIn(logger);
        return PatientFlow.Next(interaction, back, AccountEndpoints.SignedInPath);
    }

    private static async Task<IResult> StepUpOptionsAsync(HttpContext context, IAntiforgery antiforgery, Passkeys passkeys, UserManager<Account> users)
    {
        var session = await PatientFlow.SessionAsync(context);
        var account = session is null ? null : await users.FindByIdAsync(session.SubjectId.ToString("D"));
        if (account is null || await AccountEndpoints.ReadFormAsync(context, antiforgery) is null)
        {
            return BadOptions();
        }

        var (options, state) = await passkeys.BeginAssertionAsync(context, account);
        return Options(options, state);
    }

    private static async Task<IResult> StepUpAsync(HttpContext context, IAntiforgery antiforgery, InteractionProtector interactions, Passkeys passkeys, SessionStore sessions, ILogger<Account> logger)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var (interaction, request, back) = PatientFlow.Continuation(form, interactions);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var session = await PatientFlow.SessionAsync(context);
        if (form is null || session is null)
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        // The sealed state names the session's account: another account's passkey fails the ceremony.
        var proof = await passkeys.CompleteAssertionAsync(context, AccountEndpoints.Field(form, "credential"), AccountEndpoints.Field(form, "state"));
        if (proof is null || proof.AccountId != session.SubjectId)
        {
            await RefusedAsync(context, "step_up", session.SubjectId);
            return Html.Page(context, language, UiText.Get("step_up.title", language),
                $"""{Html.Alert(UiText.Get("passkey.refused", language))}<p><a id="step-up-again" href="{Html.E(StepUpPage.Path)}">{Html.E(UiText.Get("step_up.title", language))}</a></p>""",
                StatusCodes.Status401Unauthorized);
        }

        if (!await sessions.StepUpAsync(context, session, Session.SteppedUp(session.Amr, proof.Method), Session.AcrSecondFactor))
        {
            return Results.Redirect(AccountEndpoints.SignInPathFor(interaction, back));
        }

        OidcLog.SteppedUp(logger);
        return PatientFlow.Next(interaction, back, SecurityPage.Path);
    }

    private static async Task<IResult> RegisterOptionsAsync(HttpContext context, IAntiforgery antiforgery, Passkeys passkeys, SecondFactors factors, UserManager<Account> users)
    {
        var session = await PatientFlow.SessionAsync(context);
        var account = session is null ? null : await users.FindByIdAsync(session.SubjectId.ToString("D"));
        if (session is null || account is null || await AccountEndpoints.ReadFormAsync(context, antiforgery) is null || !await SecurityPage.MayAddFactorAsync(context, session))
        {
            return BadOptions();
        }

        var (options, state) = await passkeys.BeginRegistrationAsync(context, account);
        return Options(options, state);
    }

    private static async Task<IResult> RegisterAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        InteractionProtector interactions,
        Passkeys passkeys,
        SecondFactors factors,
        UserManager<Account> users,
        SessionStore sessions,
        IAuditTrail audit)
    {
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        var (interaction, request, back) = PatientFlow.Continuation(form, interactions);
        var language = UiLanguage.From(context.Request, request?.UiLocale);
        var session = await PatientFlow.SessionAsync(context);
        var account = session is null ? null : await users.FindByIdAsync(session.SubjectId.ToString("D"));
        if (form is null || session is null || account is null || !await SecurityPage.MayAddFactorAsync(context, session))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        var proof = await passkeys.CompleteRegistrationAsync(context, account, AccountEndpoints.Field(form, "credential"), AccountEndpoints.Field(form, "state"), AccountEndpoints.Field(form, "name"));
        if (proof is null)
        {
            await RefusedAsync(context, "register", session.SubjectId);
            return Html.Page(context, language, UiText.Get("security.title", language),
                $"""{Html.Alert(UiText.Get("passkey.refused", language))}<p><a id="security-again" href="{SecurityPage.Path}">{Html.E(UiText.Get("security.title", language))}</a></p>""",
                StatusCodes.Status400BadRequest);
        }

        await audit.RecordAsync(AuditEventTypes.SecondFactorEnabled, ConsentGrants.PatientActor, session.SubjectId, $$"""{"method":"passkey","amr":"{{proof.Method}}"}""", context.RequestAborted);

        // The session proved the password, and now a user-verified passkey of the account: eidas2.
        if (!Session.Satisfies(session.Acr, Session.AcrSecondFactor))
        {
            await sessions.StepUpAsync(context, session, Session.SteppedUp(session.Amr, proof.Method), Session.AcrSecondFactor);
        }

        return PatientFlow.Next(interaction, back, SecurityPage.Path);
    }

    private static async Task<IResult> RenameAsync(HttpContext context, IAntiforgery antiforgery, Passkeys passkeys)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        if (form is null || !await passkeys.RenameAsync(session.SubjectId, AccountEndpoints.Field(form, "id"), AccountEndpoints.Field(form, "name"), context.RequestAborted))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        return Results.Redirect(SecurityPage.Path);
    }

    private static async Task<IResult> RemoveAsync(HttpContext context, IAntiforgery antiforgery, Passkeys passkeys, IAuditTrail audit)
    {
        var language = UiLanguage.From(context.Request);
        var session = Session.From(context.User)!;
        var form = await AccountEndpoints.ReadFormAsync(context, antiforgery);
        if (form is null || !await passkeys.RemoveAsync(session.SubjectId, AccountEndpoints.Field(form, "id"), context.RequestAborted))
        {
            return Html.ErrorPage(context, language, "error.form");
        }

        await audit.RecordAsync(AuditEventTypes.SecondFactorRemoved, ConsentGrants.PatientActor, session.SubjectId, """{"method":"passkey"}""", context.RequestAborted);
        return Results.Redirect(SecurityPage.Path);
    }

    /// <summary>A refused ceremony, in the audit trail: which ceremony, and the account when one was signed in; never the credential.</summary>
    private static Task RefusedAsync(HttpContext context, string ceremony, Guid? subjectId) =>
        context.RequestServices.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditEventTypes.PasskeyRefused, ConsentGrants.PatientActor, subjectId, $$"""{"ceremony":"{{ceremony}}"}""", context.RequestAborted);

    private static IResult Options(string optionsJson, string state) =>
        Results.Json(new JsonObject { ["options"] = JsonNode.Parse(optionsJson), ["state"] = state });

    private static IResult BadOptions() => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "No passkey ceremony can start.",
        detail: "The form is missing or stale, or the session may not do this.",
        extensions: new Dictionary<string, object?> { ["code"] = "passkey_options_refused" });

    /// <summary>
    /// The one script of the patient pages. It shows the passkey forms only where WebAuthn works, fetches the options,
    /// asks the browser, and submits the form with the credential; the password forms never depend on it.
    /// </summary>
    private const string Script = """
        "use strict";
        (() => {
          const supported = window.PublicKeyCredential
            && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
            && typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
          for (const form of document.querySelectorAll("form[data-passkey]")) {
            if (!supported) continue;
            form.hidden = false;
            const alert = form.querySelector(".passkey-error");
            form.addEventListener("submit", async (event) => {
              event.preventDefault();
              alert.hidden = true;
              try {
                const response = await fetch(form.dataset.options, {
                  method: "POST",
                  credentials: "same-origin",
                  body: new URLSearchParams(new FormData(form)),
                });
                if (!response.ok) throw new Error("options " + response.status);
                const { options, state } = await response.json();
                const credential = form.dataset.passkey === "create"
                  ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
                  : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
                form.elements.credential.value = JSON.stringify(credential.toJSON());
                form.elements.state.value = state;
                form.submit();
              } catch (error) {
                alert.textContent = form.dataset.error;
                alert.hidden = false;
              }
            });
          }
        })();
        """;
}
