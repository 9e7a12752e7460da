using Compliance.Data.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs.Store;

/// <summary>
/// Before the node starts: installs the PostgreSQL job schema when <c>Storage:MigrateOnStart</c> allows it, otherwise
/// refuses to start unless it is exactly this build's. The in-memory store has no schema.
/// </summary>
internal sealed class JobStoreStartupGate(
    JobStoreSettings store,
    IOptions<StorageOptions> storage,
    IOptions<JobsOptions> jobs,
    TimeProvider time,
    ILogger<JobStoreMigrator> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        JobsLog.Started(logger, store, jobs.Value.Server, jobs.Value.WorkerOnly);
        if (store.Kind != JobStoreKind.PostgreSql)
        {
            return;
        }

        var migrator = new JobStoreMigrator(store.ConnectionString!, store.Schema, time, logger);
        if (storage.Value.ShouldMigrateOnStart)
        {
            await migrator.MigrateAsync(cancellationToken);
        }

        await migrator.EnsureCurrentAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
