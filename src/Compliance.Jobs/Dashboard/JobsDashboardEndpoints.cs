using Compliance.Jobs.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

// The one public seam of the dashboard sits in the module's namespace, beside AddComplianceJobs, so that Program.cs
// maps it with the using it already has (as ASP.NET Core's own Map… extensions do); the rest is Compliance.Jobs.Dashboard.
#pragma warning disable IDE0130
namespace Compliance.Jobs;
#pragma warning restore IDE0130

/// <summary>Maps the staff administrators' job dashboard.</summary>
public static class JobsDashboardEndpoints
{
    /// <summary>
    /// Maps Hangfire's dashboard at <c>Jobs:DashboardPath</c> (default <c>/staff/jobs</c>) on this host's job store.
    /// Every path under it (pages, <c>/stats</c>, scripts, styles, actions) requires <paramref name="authorizationPolicy"/>
    /// and a sign-in that passed a second factor (<c>amr</c> <c>mfa</c>, RFC 8176); its actions also need an
    /// antiforgery token and leave an audit row (3020). Its answers carry a Content-Security-Policy of their own, the
    /// host's plus two inline styles admitted by hash. Requires <c>AddComplianceJobs</c>; a policy that is not registered
    /// stops the start.
    /// </summary>
    /// <param name="routes">The host's routes.</param>
    /// <param name="authorizationPolicy">The name of the policy that admits staff administrators.</param>
    /// <param name="homePath">Where the dashboard's "back to site" link leads: the staff home.</param>
    public static IEndpointConventionBuilder MapComplianceJobsDashboard(this IEndpointRouteBuilder routes, string authorizationPolicy, string homePath = "/staff")
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentException.ThrowIfNullOrWhiteSpace(authorizationPolicy);
        ArgumentException.ThrowIfNullOrWhiteSpace(homePath);
        return JobsDashboard.Map(routes, authorizationPolicy, homePath);
    }
}
