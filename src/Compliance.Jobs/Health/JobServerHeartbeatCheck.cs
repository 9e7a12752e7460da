using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs.Health;

/// <summary>
/// On a node that should run jobs: ready only while its own job server has sent a heartbeat recently. A stalled or
/// crashed job server makes the node not ready, so an orchestrator notices it.
/// </summary>
internal sealed class JobServerHeartbeatCheck(JobStorage storage, JobServerIdentity identity, IOptions<JobsOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var servers = await Task.Run(() => storage.GetMonitoringApi().Servers(), cancellationToken);
            var mine = servers.FirstOrDefault(s => s.Name.StartsWith(identity.Name, StringComparison.Ordinal));
            if (mine?.Heartbeat is not { } heartbeat)
            {
                return HealthCheckResult.Unhealthy("no heartbeat from this node's job server");
            }

            var age = time.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(heartbeat, DateTimeKind.Utc));
            return age <= TimeSpan.FromSeconds(options.Value.HeartbeatToleranceSeconds)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("this node's job server has not sent a heartbeat recently");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("job store unreachable");
        }
    }
}
