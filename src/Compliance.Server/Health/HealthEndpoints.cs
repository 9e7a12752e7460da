using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Compliance.Server.Health;

/// <summary>Liveness (the process answers) and readiness (both stores answer with this build's schema).</summary>
internal static class HealthEndpoints
{
    public static WebApplication MapComplianceHealth(this WebApplication app)
    {
        var health = app.MapGroup("/health").WithTags("Operations");
        health.MapGet("/live", Live)
            .WithName("Liveness")
            .WithSummary("The process is up and answering.");
        health.MapGet("/ready", ReadyAsync)
            .WithName("Readiness")
            .WithSummary("Both stores answer and carry exactly this build's schema; 503 otherwise.");
        return app;
    }

    private static Ok<HealthResponse> Live(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new HealthResponse("Healthy", new Dictionary<string, string>()));
    }

    // Status per check and nothing more: a public probe must not learn connection details or errors.
    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> ReadyAsync(
        HttpContext context, HealthCheckService checks, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains("ready"), cancellationToken);
        var response = new HealthResponse(report.Status.ToString(), report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(response)
            : TypedResults.Json(response, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>A health answer: the overall status and each check's status.</summary>
internal sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);
