using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Data.Health;

/// <summary>Ready when the store answers and its schema is exactly this build's.</summary>
internal sealed class StoreHealthCheck(
    Store store,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<SchemaMigrator> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var migrator = new SchemaMigrator(options.Value.ConnectionFor(store), time, logger);
        try
        {
            var status = await migrator.GetStatusAsync(cancellationToken);
            return status.IsCurrent
                ? HealthCheckResult.Healthy($"schema version {status.CurrentVersion}")
                : HealthCheckResult.Unhealthy($"schema version {status.CurrentVersion}, expected {migrator.TargetVersion}");
        }
        catch (StoreUnavailableException)
        {
            // The reason stays in the logs of the start-up gate; a public probe learns only that the store is down.
            return HealthCheckResult.Unhealthy("unreachable");
        }
    }
}
