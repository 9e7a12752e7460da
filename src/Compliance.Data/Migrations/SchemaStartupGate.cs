using Compliance.Data.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Data.Migrations;

/// <summary>
/// Before the host serves anything: migrates both stores when allowed (the embedded default), otherwise checks that
/// their schemas are exactly this build's and stops the start if not.
/// </summary>
internal sealed class SchemaStartupGate(
    IOptions<StorageOptions> options,
    TimeProvider time,
    IEnumerable<ISchemaMigrationRecorder> recorders,
    ILogger<SchemaMigrator> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var storage = options.Value;
        var migrated = new List<(string Store, int From, int To)>();
        foreach (var store in Enum.GetValues<Store>())
        {
            var connection = storage.ConnectionFor(store);
            var migrator = new SchemaMigrator(connection, time, logger);
            try
            {
                if (storage.ShouldMigrateOnStart)
                {
                    var before = await migrator.GetStatusAsync(cancellationToken);
                    var after = await migrator.MigrateAsync(cancellationToken);
                    if (after.Applied.Except(before.Applied).Any())
                    {
                        migrated.Add((store.ToString().ToLowerInvariant(), before.CurrentVersion, after.CurrentVersion));
                    }
                }
                else
                {
                    await migrator.EnsureCurrentAsync(cancellationToken);
                }
            }
            catch (Exception e) when (e is SchemaNotReadyException or StoreUnavailableException)
            {
                DataLog.SchemaNotReady(logger, connection.StoreName, e.Message);
                throw;
            }

            DataLog.SchemaCurrent(logger, connection.StoreName, migrator.TargetVersion);
        }

        // After the loop: the audit trail lives in the compliance store, which is now current.
        foreach (var (store, from, to) in migrated)
        {
            foreach (var recorder in recorders)
            {
                await recorder.RecordStartupMigrationAsync(store, from, to, cancellationToken);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
