using Compliance.Jobs.Store;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Health;

/// <summary>Ready when the job store answers with this build's schema (always, for the in-memory store).</summary>
internal sealed class JobStoreHealthCheck(JobStoreSettings store, TimeProvider time, ILogger<JobStoreMigrator> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (store.Kind != JobStoreKind.PostgreSql)
        {
            return HealthCheckResult.Healthy("in memory");
        }

        try
        {
            var status = await new JobStoreMigrator(store.ConnectionString!, store.Schema, time, logger).GetStatusAsync(cancellationToken);
            return status.IsCurrent
                ? HealthCheckResult.Healthy($"job schema version {status.InstalledVersion}")
                : HealthCheckResult.Unhealthy($"job schema version {status.InstalledVersion}, expected {status.TargetVersion}");
        }
        catch (Compliance.Data.Migrations.StoreUnavailableException)
        {
            return HealthCheckResult.Unhealthy("unreachable");
        }
    }
}
