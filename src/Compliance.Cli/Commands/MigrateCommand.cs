using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance migrate [--store compliance|vault|all] [--status]</c>: applies the pending migrations of both stores,
/// or with <c>--status</c> only reports them (exit 1 when a store is not current).
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store")
        {
            Description = "Which store: compliance, vault or all.",
            DefaultValueFactory = _ => "all",
        };
        store.AcceptOnlyFromAmong("compliance", "vault", "all");
        var status = new Option<bool>("--status") { Description = "Report the schema versions without changing anything." };

        var command = new Command("migrate", "Apply the schema migrations of the compliance and vault stores.") { store, status };
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

            return allCurrent ? CliApp.Ok : CliApp.NotInOrder;
        });
    }

    // The audit trail lives in the compliance store; a vault migrated alone is recorded once the compliance store is current.
    private static async Task RecordAsync(IServiceProvider services, string which, string store, int from, int to, CancellationToken cancellationToken)
    {
        if (which == "vault" && !(await services.CreateMigrator(Store.Compliance).GetStatusAsync(cancellationToken)).IsCurrent)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var details = JsonSerializer.Serialize(new Dictionary<string, object> { ["store"] = store, ["from"] = from, ["to"] = to, ["trigger"] = "migrate" });
        await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditEventTypes.SchemaMigrated, scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null, details, cancellationToken);
    }
}
