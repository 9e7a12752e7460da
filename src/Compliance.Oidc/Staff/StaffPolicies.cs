using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Staff;

/// <summary>
/// The authorization policies of staff pages. Attach one with <c>.RequireAuthorization(StaffPolicies.Admin)</c> (the
/// job dashboard) or <c>StaffPolicies.Dpo</c> (the DPO console). They read only the staff session cookie, whose
/// server-side row is checked on every request. Without a staff session a browser is sent to <c>/staff/login</c>; a
/// patient session gets a 403 page and an audit row (2106); a staff member of the other role gets a 403 page and an
/// audit row (2107). The roles are separate: an administrator is not a DPO, nor the reverse.
/// </summary>
public static class StaffPolicies
{
    /// <summary>Any signed-in staff member, whatever the role.</summary>
    public const string Staff = "Compliance.Staff";

    /// <summary>A signed-in administrator.</summary>
    public const string Admin = "Compliance.Staff.Admin";

    /// <summary>A signed-in DPO.</summary>
    public const string Dpo = "Compliance.Staff.Dpo";

    /// <summary>The authentication scheme of the staff session cookie.</summary>
    public const string AuthenticationScheme = StaffSession.Scheme;
}

/// <summary>Registers staff accounts, their cookie, their policies and their refusals.</summary>
internal static class StaffAccess
{
    public static void AddStaff(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StaffOptions>().Bind(configuration.GetSection(StaffOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StaffOptions>, StaffOptionsValidator>());
        services.AddScoped<StaffAdministration>();
        services.AddScoped<StaffSessionStore>();
        services.TryAddSingleton<StaffPendingSignIns>();

        services.AddAuthentication().AddCookie(StaffSession.Scheme, cookie =>
        {
            cookie.Cookie.Name = StaffSession.DevelopmentCookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;

            // Strict: no staff page is reached by a cross-site redirect, and none may be driven from another site.
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = StaffSignIn.SignInPath;
            cookie.Events = new CookieAuthenticationEvents
            {
                OnValidatePrincipal = ValidateAsync,
                OnRedirectToLogin = ChallengeAsync,
                OnRedirectToAccessDenied = ForbidAsync,
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(StaffSession.Scheme).Configure<IOptions<StaffOptions>, IOptions<OidcOptions>>((cookie, staff, oidc) =>
        {
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(Math.Clamp(staff.Value.SessionIdleMinutes, 1, 60));

            // Over HTTPS the __Host- prefix pins the cookie to this exact origin, as the patient's.
            if (Uri.TryCreate(oidc.Value.Issuer, UriKind.Absolute, out var issuer) && issuer.Scheme == Uri.UriSchemeHttps)
            {
                cookie.Cookie.Name = StaffSession.CookieName;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            }
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(StaffPolicies.Staff, policy => policy.AddAuthenticationSchemes(StaffSession.Scheme).RequireAuthenticatedUser()
                .RequireClaim(StaffSession.RoleClaim, StaffRoles.All))
            .AddPolicy(StaffPolicies.Admin, policy => policy.AddAuthenticationSchemes(StaffSession.Scheme).RequireAuthenticatedUser()
                .RequireClaim(StaffSession.RoleClaim, StaffRoles.Admin))
            .AddPolicy(StaffPolicies.Dpo, policy => policy.AddAuthenticationSchemes(StaffSession.Scheme).RequireAuthenticatedUser()
                .RequireClaim(StaffSession.RoleClaim, StaffRoles.Dpo));
    }

    /// <summary>The cookie only proves which session it was issued for; the server-side row decides, on every node and request.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var session = StaffSession.From(context.Principal);
        var store = context.HttpContext.RequestServices.GetRequiredService<StaffSessionStore>();
        if (session is null || !await store.IsOpenAsync(session, IsPersonsRequest(context.HttpContext.Request), context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(StaffSession.Scheme);
            StaffLog.SessionRefused(Logger(context.HttpContext));
        }
    }

    /// <summary>
    /// Whether a person made this request, so that it counts as activity for the idle timeout. A browser marks what a
    /// page's script fetches by itself (<c>Sec-Fetch-Mode</c> other than <c>navigate</c>): the job dashboard polls its
    /// statistics every few seconds, and an unattended tab must not keep a staff session open. Scripts cannot forge
    /// the header; a client that leaves it out only keeps its own session as a browser's page loads would.
    /// </summary>
    private static bool IsPersonsRequest(HttpRequest request) =>
        request.Headers["Sec-Fetch-Mode"] is not { Count: > 0 } mode || string.Equals(mode[0], "navigate", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// No staff session. A patient session is refused outright (403 and an audit row, no staff data shown); anyone
    /// else is sent to the staff sign-in page and back, or, for a form post, told to sign in again.
    /// </summary>
    private static async Task ChallengeAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        var http = context.HttpContext;
        var language = UiLanguage.From(http.Request);
        var patient = Session.From((await http.AuthenticateAsync(Session.Scheme)).Principal);
        if (patient is not null)
        {
            var endpoint = EndpointName(http);
            await http.RequestServices.GetRequiredService<IAuditTrail>().RecordAsync(
                AuditEventTypes.StaffPagePatientRefused, ConsentGrants.PatientActor, patient.SubjectId,
                JsonSerializer.Serialize(new Dictionary<string, string> { ["endpoint"] = endpoint }), http.RequestAborted);
            StaffLog.PatientRefused(Logger(http), endpoint);
            var body = $"""
                <p class="alert" role="alert" id="staff-refused">{Html.E(UiText.Get("staff.patient_refused", language))}</p>
                <p><a id="staff-refused-home" href="{AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("authorizations.title", language))}</a></p>
                """;
            await Html.Page(http, language, UiText.Get("staff.patient_refused.title", language), body, StatusCodes.Status403Forbidden, serviceKey: "staff.service")
                .ExecuteAsync(http);
            return;
        }

        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            var back = StaffSignIn.LocalPath(http.Request.Path + http.Request.QueryString);
            http.Response.Redirect(back is null ? StaffSignIn.SignInPath : $"{StaffSignIn.SignInPath}?return={Uri.EscapeDataString(back)}");
            return;
        }

        var again = $"""
            <p class="alert" role="alert" id="staff-session-ended">{Html.E(UiText.Get("staff.session_ended", language))}</p>
            <p><a id="staff-signin-link" href="{StaffSignIn.SignInPath}">{Html.E(UiText.Get("staff.signin_again", language))}</a></p>
            """;
        await Html.Page(http, language, UiText.Get("staff.signin.title", language), again, StatusCodes.Status401Unauthorized, serviceKey: "staff.service")
            .ExecuteAsync(http);
    }

    /// <summary>A staff member of another role: 403 and an audit row naming the role and the page, nothing of the page itself.</summary>
    private static async Task ForbidAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        var http = context.HttpContext;
        var language = UiLanguage.From(http.Request);
        var staff = StaffSession.From(http.User);
        var endpoint = EndpointName(http);
        if (staff is not null)
        {
            await http.RequestServices.GetRequiredService<IAuditTrail>().RecordAsync(
                AuditEventTypes.StaffAccessDenied, AuditActor.Staff(staff.StaffId), null,
                JsonSerializer.Serialize(new Dictionary<string, string> { ["role"] = staff.Role, ["endpoint"] = endpoint }), http.RequestAborted);
            StaffLog.AccessDenied(Logger(http), staff.Role, endpoint);
        }

        var role = staff is null ? "" : UiText.Get("staff.role." + staff.Role, language);
        var body = $"""
            <p class="alert" role="alert" id="staff-denied">{Html.E(UiText.Get("staff.denied", language, role))}</p>
            <p><a id="staff-home-link" href="{StaffSignIn.HomePath}">{Html.E(UiText.Get("staff.home.title", language))}</a></p>
            """;
        await Html.Page(http, language, UiText.Get("staff.denied.title", language), body, StatusCodes.Status403Forbidden, serviceKey: "staff.service")
            .ExecuteAsync(http);
    }

    /// <summary>The route the request matched, as the code declares it (never the query, nor anything the browser typed).</summary>
    private static string EndpointName(HttpContext http) =>
        (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { Length: > 0 and <= 200 } route ? route : "unknown";

    private static ILogger Logger(HttpContext http) =>
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StaffAccess).FullName!);
}
