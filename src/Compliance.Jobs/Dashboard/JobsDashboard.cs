using System.Security.Claims;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs.Dashboard;

/// <summary>
/// Hangfire's dashboard as one endpoint, <c>{path}/{**rest}</c>, so that endpoint authorization guards every sub-path
/// before Hangfire sees the request. The pipeline is built here rather than with <c>MapHangfireDashboard</c>, which
/// insists on <c>AddHangfire</c> (Hangfire's global configuration): this host never registers it, and the dashboard
/// reads the <see cref="JobStorage"/> and job clients of this container only.
/// </summary>
internal static class JobsDashboard
{
    /// <summary>RFC 8176: more than one factor. Every staff session carries it; the dashboard asks for it itself.</summary>
    public const string MultiFactorAmr = "mfa";

    public const string Title = "Compliance jobs";

    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder routes, string authorizationPolicy, string homePath)
    {
        var services = routes.ServiceProvider;
        // Routes are mapped before the host validates its options: reading IOptions<JobsOptions> here would throw on
        // any wrong Jobs setting before the start can be refused in one line. A wrong path maps the default, and the
        // start is then refused by JobsOptions' validation.
        var configured = services.GetRequiredService<IConfiguration>()[$"{JobsOptions.SectionName}:{nameof(JobsOptions.DashboardPath)}"];
        var path = configured is not null && JobsOptions.PathShape().IsMatch(configured) && !configured.EndsWith('/')
            ? configured
            : new JobsOptions().DashboardPath;

        // A misspelt or missing policy would answer 500 to everyone; refuse the start instead, naming it.
        if (services.GetRequiredService<IOptions<AuthorizationOptions>>().Value.GetPolicy(authorizationPolicy) is null)
        {
            throw new InvalidOperationException($"The job dashboard's authorization policy '{authorizationPolicy}' is not registered.");
        }

        var options = new DashboardOptions
        {
            AppPath = homePath,
            DashboardTitle = Title,
            DisplayStorageConnectionString = false,

            // Endpoint authorization decides who gets here. Hangfire's default filter (local requests only) would
            // refuse every administrator behind the reverse proxy, and a second list of rules would drift.
            Authorization = [],
            AsyncAuthorization = [],
            IgnoreAntiforgeryToken = false,
        };
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JobsDashboard).FullName!);
        var pipeline = routes.CreateApplicationBuilder()
            .Use(DashboardContentSecurityPolicy.Apply)
            .UsePathBase(path)
            .UseMiddleware<DashboardActionAudit>()
            .UseMiddleware<AspNetCoreDashboardMiddleware>(services.GetRequiredService<JobStorage>(), options, DashboardRoutes.Routes)
            .Build();
        JobsDashboardLog.Mapped(logger, path);

        return routes.Map(path + "/{**rest}", pipeline)
            .WithDisplayName("Jobs dashboard")
            .ExcludeFromDescription()
            .RequireAuthorization(authorizationPolicy)
            .RequireAuthorization(policy => policy.RequireAssertion(context => PassedSecondFactor(context.User)));
    }

    /// <summary>
    /// Whether the sign-in passed more than one factor: an <c>amr</c> claim (one claim per value, or one claim of
    /// space-separated values) that holds <c>mfa</c>. The staff policy implies it today; the dashboard checks it anyway,
    /// so that a looser staff session in the future does not open it.
    /// </summary>
    public static bool PassedSecondFactor(ClaimsPrincipal user) =>
        user.FindAll("amr").Any(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(MultiFactorAmr, StringComparer.Ordinal));
}
