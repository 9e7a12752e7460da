using System.Threading.RateLimiting;
using Compliance.Audit;
using Compliance.Data;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Endpoints;
using Compliance.Oidc.Endpoints.Authorize;
using Compliance.Oidc.Endpoints.Token;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Sessions;
using Compliance.Oidc.Staff;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
using Compliance.Oidc.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Compliance.Policies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc;

/// <summary>Registers and maps the OpenID provider.</summary>
public static class OidcServiceCollectionExtensions
{
    /// <summary>
    /// The OpenID provider: accounts (ASP.NET Core Identity on the compliance store), clients, grants, tokens, the
    /// session cookie, rate limits, and the <see cref="IGrantRevocation"/>, <see cref="IPairwiseSubjects"/> and
    /// <see cref="IConsentDecisions"/> seams. Requires <c>AddComplianceData</c> and <c>AddComplianceKeys</c>. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceOidc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // Purposes decide which scopes exist and who must be shown as controller: the provider cannot run without them.
        services.AddCompliancePolicies(configuration);
        if (services.Any(d => d.ServiceType == typeof(OidcMarker)))
        {
            return services;
        }

        services.AddSingleton<OidcMarker>();
        services.AddComplianceModelPart<OidcModelPart>();
        services.AddComplianceAudit(); // client administration writes client.* rows
        services.AddOptions<OidcOptions>().Bind(configuration.GetSection(OidcOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OidcOptions>, OidcOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMemoryCache();
        // Partner documents (JWKS, sector identifiers) and back-channel logouts: short, small, no redirects, no proxy, and
        // never towards an internal address, whatever the partner's host resolves to (PartnerConnections).
        services.AddHttpClient("compliance-fetch", client =>
            {
                client.Timeout = TimeSpan.FromSeconds(5);
                client.MaxResponseContentBufferSize = 256 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(provider => PartnerConnections.Handler(provider.GetRequiredService<IOptions<OidcOptions>>().Value.AllowLoopbackHttpFetch));

        AddIdentity(services, configuration);
        AddSessionCookie(services);
        StaffAccess.AddStaff(services, configuration);
        AddRateLimits(services, configuration);

        services.AddScoped<ClientRegistry>();
        services.AddScoped<ClientAdministration>();
        services.AddScoped<ClientAuthenticator>();
        services.AddScoped<IPairwiseSubjects, PairwiseSubjects>();
        services.AddScoped<TokenIssuer>();
        services.AddScoped<AccessTokenValidator>();
        services.AddScoped<GrantRevocation>();
        services.AddScoped<IGrantRevocation>(provider => provider.GetRequiredService<GrantRevocation>());
        services.TryAddScoped<ConsentGrants>();
        services.TryAddScoped<IConsentDecisions>(provider => provider.GetRequiredService<ConsentGrants>());
        services.TryAddScoped<IPartnerDirectory, PartnerDirectory>();
        services.TryAddScoped<IPartnerAuthentication, PartnerAuthentication>();
        services.TryAddScoped<IPatientConsents, NoPatientConsents>();
        services.AddSingleton<InteractionProtector>();
        services.AddScoped<AuthorizationValidator>();
        services.AddScoped<AuthorizationFlow>();
        services.AddScoped<TokenResponses>();
        services.TryAddSingleton<IssuanceBatches>();
        services.AddScoped<AuthorizationCodeGrant>();
        services.AddScoped<RefreshTokenGrant>();
        services.AddScoped<ClientCredentialsGrant>();
        services.AddScoped<PairwiseSessions>();
        services.AddScoped<IdTokenHints>();
        services.AddScoped<SessionStore>();
        services.AddScoped<ISessionTermination>(provider => provider.GetRequiredService<SessionStore>());
        services.AddSingleton<LogoutSignal>();
        services.AddScoped<LogoutDeliveries>();
        services.AddHostedService<LogoutDeliveryWorker>();
        services.AddHostedService<DemoSeed>();
        return services;
    }

    /// <summary>Adds the rate-limiting, authentication and authorization middleware the provider's endpoints (and staff pages) rely on.</summary>
    public static IApplicationBuilder UseComplianceOidc(this IApplicationBuilder app)
    {
        app.UseRateLimiter();
        app.UseAuthentication();

        // Here, not added by the host before everything else: a refused request then still gets the security headers.
        app.UseAuthorization();
        return app;
    }

    /// <summary>Maps discovery, JWKS, authorize, PAR, token, userinfo, introspection, revocation, end-session, the patient pages and the staff pages.</summary>
    public static IEndpointRouteBuilder MapComplianceOidc(this IEndpointRouteBuilder routes)
    {
        routes.MapDiscoveryEndpoints();
        routes.MapAuthorizeEndpoint();
        routes.MapConsentEndpoint();
        routes.MapPushedAuthorizationEndpoint();
        routes.MapTokenEndpoint();
        routes.MapUserInfoEndpoint();
        routes.MapIntrospectionEndpoint();
        routes.MapRevocationEndpoint();
        routes.MapEndSessionEndpoint();
        routes.MapAccountEndpoints();
        routes.MapGet(Html.StylesheetPath, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(Html.Stylesheet, "text/css; charset=utf-8");
        }).ExcludeFromDescription();
        routes.MapAuthorizationsPage();
        routes.MapNoticesPage();
        routes.MapPrivacyNoticePage();
        routes.MapSecurityPage();
        routes.MapStepUpPage();
        routes.MapPasswordPage();
        routes.MapPasskeyPages();
        routes.MapStaffSignIn();
        routes.MapStaffPages();
        return routes;
    }

    private static void AddIdentity(IServiceCollection services, IConfiguration configuration)
    {
        var oidc = configuration.GetSection(OidcOptions.SectionName);
        services.AddIdentityCore<Account>(identity =>
            {
                identity.User.RequireUniqueEmail = false;
                identity.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";

                // Length over composition rules, as ANSSI and NIST advise.
                identity.Password.RequiredLength = 12;
                identity.Password.RequireDigit = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireNonAlphanumeric = false;
                // The lockout is SignInThrottle's, counted atomically in the store per pseudonym (existing or not), because
                // Identity's read-modify-write of access_failed_count loses counts under parallel attempts. The sign-in page
                // checks passwords with lockoutOnFailure: false; these settings only keep Identity's view of the same limits.
                identity.Lockout.AllowedForNewUsers = true;
                identity.Lockout.MaxFailedAccessAttempts = oidc.GetValue(nameof(OidcOptions.MaxFailedSignIns), 5);
                identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(oidc.GetValue(nameof(OidcOptions.LockoutMinutes), 15));
                identity.SignIn.RequireConfirmedAccount = false;
            })
            .AddUserStore<UserOnlyStore<Account, ComplianceDbContext, Guid>>()
            .AddPasswordValidator<PasswordPolicyValidator>()
            .AddSignInManager();
        services.AddScoped<SignInThrottle>();
        services.AddScoped<Accounts.Factors.TotpFactors>();
        services.AddScoped<Accounts.Factors.RecoveryCodes>();
        services.TryAddSingleton<Accounts.Factors.PendingSignIns>();
        services.AddScoped<Accounts.Factors.Passkeys>();
        services.AddScoped<Accounts.Factors.SecondFactors>();
        services.AddScoped<SignInHistory>();
        services.TryAddScoped<IPasskeyHandler<Account>, PasskeyHandler<Account>>();
        services.AddOptions<IdentityPasskeyOptions>().Configure<IOptions<OidcOptions>>((passkeys, oidc) =>
        {
            // The RP id is the issuer's host, and a ceremony counts only from the issuer's own origin, never a frame.
            var issuer = new Uri(oidc.Value.IssuerUri);
            var origin = issuer.GetLeftPart(UriPartial.Authority);
            passkeys.ServerDomain = issuer.Host;
            passkeys.UserVerificationRequirement = "required";
            passkeys.ResidentKeyRequirement = "required";
            passkeys.AttestationConveyancePreference = "none";
            passkeys.ValidateOrigin = context => ValueTask.FromResult(!context.CrossOrigin && string.Equals(context.Origin, origin, StringComparison.Ordinal));
        });
    }

    private static void AddSessionCookie(IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Compliance");
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "compliance-antiforgery";
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddAuthentication(Session.Scheme).AddCookie(Session.Scheme, cookie =>
        {
            cookie.Cookie.Name = Session.DevelopmentCookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;

            // Lax: the partner's top-level redirect to /connect/authorize must carry the session.
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = AccountEndpoints.SignInPath;
            cookie.Events = new CookieAuthenticationEvents
            {
                OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                },

                // The cookie only proves which session it was issued for; the server-side row decides whether that
                // session is still open, on every node and on every request.
                OnValidatePrincipal = async context =>
                {
                    var session = Session.From(context.Principal);
                    var store = context.HttpContext.RequestServices.GetRequiredService<SessionStore>();
                    if (session is null || !await store.IsOpenAsync(session, context.HttpContext.RequestAborted))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(Session.Scheme);
                        OidcLog.SessionRefused(context.HttpContext.RequestServices.GetRequiredService<ILogger<SessionStore>>());
                    }
                },
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(Session.Scheme).Configure<IOptions<OidcOptions>>((cookie, oidc) =>
        {
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(Math.Clamp(oidc.Value.SessionIdleMinutes, 1, 720));

            // Over HTTPS the __Host- prefix pins the cookie to this exact origin.
            if (Uri.TryCreate(oidc.Value.Issuer, UriKind.Absolute, out var issuer) && issuer.Scheme == Uri.UriSchemeHttps)
            {
                cookie.Cookie.Name = Session.CookieName;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            }
        });
        StrongAuthentication.AddPolicies(services.AddAuthorizationBuilder());
        services.AddSingleton<IAuthorizationHandler, StrongSessionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, StrongAuthenticationResultHandler>();
    }

    private static void AddRateLimits(IServiceCollection services, IConfiguration configuration)
    {
        var oidc = configuration.GetSection(OidcOptions.SectionName);
        var interactivePerMinute = Math.Clamp(oidc.GetValue(nameof(OidcOptions.InteractiveRequestsPerMinute), 20), 1, 10_000);
        var tokenPerSecond = Math.Clamp(oidc.GetValue(nameof(OidcOptions.TokenRequestsPerSecond), 200), 1, 1_000_000);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = RejectAsync;
            limiter.AddPolicy(OidcRateLimits.Interactive, context => RateLimitPartition.GetFixedWindowLimiter(
                OidcRateLimits.PartitionKey(context.Connection.RemoteIpAddress),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = interactivePerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limiter.AddPolicy(OidcRateLimits.Token, context => RateLimitPartition.GetTokenBucketLimiter(
                OidcRateLimits.PartitionKey(context.Connection.RemoteIpAddress),
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = tokenPerSecond,
                    TokensPerPeriod = tokenPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
        });
    }

    // The endpoints partners' servers call: they keep a machine-readable refusal.
    private static readonly string[] ApiPaths = ["/connect/token", "/connect/par", "/connect/introspect", "/connect/revoke", "/connect/userinfo"];

    /// <summary>
    /// A refused request says when to try again, in <c>Retry-After</c> and in words: problem+json for the APIs, a page
    /// in the patient's language for everything a browser reaches.
    /// </summary>
    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromMinutes(1);
        if (ApiPaths.Any(path => context.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase)))
        {
            Html.SetRetryAfter(context, retryAfter);
            await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests.",
                    detail: $"Retry after {Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds))} seconds.")
                .ExecuteAsync(context);
            return;
        }

        var language = UiLanguage.From(context.Request, await FlowLanguageAsync(context, cancellationToken));
        await Html.TooManyRequests(context, language, retryAfter).ExecuteAsync(context);
    }

    /// <summary>
    /// The partner's <c>ui_locales</c>, when the refused request belongs to an authorization flow: in the query of the
    /// authorization request, or sealed in the <c>interaction</c> field of a sign-in, sign-up or consent form. Null
    /// otherwise, or when the form cannot be read (the page is then in the browser's language).
    /// </summary>
    private static async Task<string?> FlowLanguageAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (UiLanguage.FromUiLocales(request.Query["ui_locales"]) is { } fromQuery)
        {
            return fromQuery;
        }

        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType)
        {
            return null;
        }

        try
        {
            var token = (await request.ReadFormAsync(cancellationToken))["interaction"].ToString();
            var interactions = context.RequestServices.GetRequiredService<InteractionProtector>();
            return (interactions.Unprotect(token) ?? interactions.UnprotectForConsent(token))?.UiLocale;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    private sealed class OidcMarker;
}
