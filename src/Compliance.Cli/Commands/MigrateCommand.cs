using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance migrate [--store compliance|vault|jobs|all] [--status]</c>: applies the pending migrations of the
/// stores, or with <c>--status</c> only reports them (exit 1 when a store is not current). <c>all</c> (the default)
/// includes the job store: on PostgreSQL its Hangfire schema, on the embedded default nothing (jobs are in memory).
/// </summary>
internal static class MigrateCommand
{
    private const string Jobs = "jobs";

    public static Command Create()
    {
        var store = new Option<string>("--store")
        {
            Description = "Which store: compliance, vault, jobs (the job store's schema, on PostgreSQL) or all.",
            DefaultValueFactory = _ => "all",
        };
        store.AcceptOnlyFromAmong("compliance", "vault", Jobs, "all");
        var status = new Option<bool>("--status") { Description = "Report the schema versions without changing anything." };

        var command = new Command("migrate", "Apply the schema migrations of the compliance, vault and job stores.") { store, status };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, parse.GetValue(store)!, parse.GetValue(status), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, string which, bool statusOnly, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        return await CliRun.GuardAsync(error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            var allCurrent = true;
            foreach (var store in Enum.GetValues<Store>().Where(s => which == "all" || s.ToString().Equals(which, StringComparison.OrdinalIgnoreCase)))
            {
                var migrator = services.CreateMigrator(store);
                var name = store.ToString().ToLowerInvariant();
                var before = await migrator.GetStatusAsync(cancellationToken);
                if (statusOnly)
                {
                    allCurrent &= before.IsCurrent;
                    var line = string.Create(CultureInfo.InvariantCulture,
                        $"{name}: version {before.CurrentVersion} of {migrator.TargetVersion}; pending [{string.Join(", ", before.Pending)}]");
                    if (before.Unknown.Count > 0)
                    {
                        line += $"; unknown to this build [{string.Join(", ", before.Unknown)}]";
                    }

                    if (before.Altered.Count > 0)
                    {
                        line += $"; altered [{string.Join(", ", before.Altered)}]";
                    }

                    await output.WriteLineAsync(line);
                    continue;
                }

                var after = await migrator.MigrateAsync(cancellationToken);
                var applied = after.Applied.Except(before.Applied).ToList();
                await output.WriteLineAsync(applied.Count == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{name}: up to date at version {after.CurrentVersion}")
                    : string.Create(CultureInfo.InvariantCulture, $"{name}: migrated from version {before.CurrentVersion} to {after.CurrentVersion} ({applied.Count} applied)"));
                if (applied.Count > 0)
                {
                    await RecordAsync(services, which, name, before.CurrentVersion, after.CurrentVersion, cancellationToken);
                }
            }

            if (which is "all" or Jobs)
            {
                allCurrent &= await MigrateJobStoreAsync(services, output, which, statusOnly, cancellationToken);
            }

            return allCurrent ? CliApp.Ok : CliApp.NotInOrder;
        });
    }

    // The job store follows Storage:Provider: Hangfire.PostgreSql's schema (Jobs:Schema, in Jobs:ConnectionString or
    // the compliance database), or Hangfire.InMemory on the embedded default, which has nothing to migrate.
    private static async Task<bool> MigrateJobStoreAsync(ServiceProvider services, TextWriter output, string which, bool statusOnly, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<JobStoreSettings>(); // validates the Jobs settings first
        if (store.Kind != JobStoreKind.PostgreSql)
        {
            await output.WriteLineAsync("jobs: kept in memory on the embedded default (Storage:Provider=Sqlite); no schema to migrate");
            return true;
        }

        var migrator = new JobStoreMigrator(store.ConnectionString!, store.Schema, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<JobStoreMigrator>>());
        var before = await migrator.GetStatusAsync(cancellationToken);
        if (statusOnly)
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"jobs: version {before.InstalledVersion} of {before.TargetVersion} in schema {store.Schema}; pending [{string.Join(", ", before.Pending)}]");
            if (before.InstalledVersion > before.TargetVersion || before.Unknown.Count > 0)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"; unknown to this build [{string.Join(", ", before.Unknown.DefaultIfEmpty(before.InstalledVersion))}]");
            }

            if (before.Altered.Count > 0)
            {
                line += $"; altered [{string.Join(", ", before.Altered)}]";
            }

            await output.WriteLineAsync(line);
            return before.IsCurrent;
        }

        var after = await migrator.MigrateAsync(cancellationToken);
        var recorded = after.Recorded.Keys.Except(before.Recorded.Keys).Order().ToList();
        await output.WriteLineAsync(
            after.InstalledVersion != before.InstalledVersion
                ? string.Create(CultureInfo.InvariantCulture, $"jobs: migrated from version {before.InstalledVersion} to {after.InstalledVersion} ({recorded.Count} applied) in schema {store.Schema}")
            : recorded.Count > 0
                ? string.Create(CultureInfo.InvariantCulture, $"jobs: up to date at version {after.InstalledVersion} in schema {store.Schema}; recorded [{string.Join(", ", recorded)}] in its history")
            : string.Create(CultureInfo.InvariantCulture, $"jobs: up to date at version {after.InstalledVersion} in schema {store.Schema}"));
        if (recorded.Count > 0)
        {
            await RecordAsync(services, which, Jobs, before.InstalledVersion, after.InstalledVersion, cancellationToken);
        }

        return true;
    }

    // The audit trail lives in the compliance store; a vault or job store migrated alone is recorded once the compliance
    // store is current.
    private static async Task RecordAsync(IServiceProvider services, string which, string store, int from, int to, CancellationToken cancellationToken)
    {
        if (which is "vault" or Jobs && !(await services.CreateMigrator(Store.Compliance).GetStatusAsync(cancellationToken)).IsCurrent)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var details = JsonSerializer.Serialize(new Dictionary<string, object> { ["store"] = store, ["from"] = from, ["to"] = to, ["trigger"] = "migrate" });
        await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditEventTypes.SchemaMigrated, scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null, details, cancellationToken);
    }
}
