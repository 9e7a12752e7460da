using Compliance.Jobs.Work;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs;

/// <summary>This node's job server: its name, unique per process, so that readiness finds its own heartbeat.</summary>
public sealed class JobServerIdentity
{
    public string Name { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}".ToLowerInvariant();
}

/// <summary>
/// Runs Hangfire's server on this node, registers the recurring reconciler, and reconciles once at start so that work
/// lost with an in-memory job store is enqueued again at once.
/// </summary>
internal sealed class JobServerHost(
    JobStorage storage,
    Store.JobStoreSettings store,
    IJobFilterProvider filters,
    IRecurringJobManager recurring,
    IServiceScopeFactory scopes,
    JobServerIdentity identity,
    IOptions<JobsOptions> options,
    ILoggerFactory loggers,
    ILogger<Reconciler> logger) : IHostedService, IAsyncDisposable
{
    private BackgroundJobServer? _server;
    private Task _firstPass = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // Hangfire's own messages (server start, worker failures) go to our logs.
        HangfireLogBridge.Attach(loggers);
        _server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                ServerName = identity.Name,
                WorkerCount = settings.WorkerCount,
                Activator = new AspNetCoreJobActivator(scopes),
                FilterProvider = filters,
                SchedulePollingInterval = TimeSpan.FromSeconds(1),
                HeartbeatInterval = TimeSpan.FromSeconds(15),
            },
            storage);
        recurring.AddOrUpdate<Reconciler>(Reconciler.RecurringJobId, reconciler => reconciler.RunAsync(CancellationToken.None), settings.ReconcileCron);
        using (var scope = scopes.CreateScope())
        {
            foreach (var work in scope.ServiceProvider.GetServices<IRecurringWork>())
            {
                var id = work.Id;
                recurring.AddOrUpdate<RecurringWorkJob>(id, job => job.RunAsync(id, CancellationToken.None), work.Cron);
            }
        }

        _firstPass = Task.Run(() => FirstPassAsync(cancellationToken), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null)
        {
            return;
        }

        _server.SendStop();
        await _server.WaitForShutdownAsync(cancellationToken);
        await _firstPass;
        HangfireLogBridge.Detach(loggers);
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task FirstPassAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // An in-memory store starts empty: every unfinished item's job is gone. A PostgreSQL store kept its jobs, and
            // an item whose job was lost is enqueued again once its lease runs out.
            await scope.ServiceProvider.GetRequiredService<Reconciler>()
                .ReconcileAsync(ignoreEnqueued: store.Kind == Store.JobStoreKind.InMemory, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The recurring pass retries within a minute; a failed first pass must not stop the node.
            JobsLog.FirstPassFailed(logger, e.GetType().Name);
        }
    }
}
