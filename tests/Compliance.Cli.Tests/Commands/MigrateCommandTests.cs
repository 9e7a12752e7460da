using Compliance.Audit.Trail;
using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Migrations;
using Compliance.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Cli.Tests.Commands;

public abstract class MigrateCommandTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync() => _settings = await _empty.CreateSettingsAsync(provider);

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    [Fact]
    public async Task Migrate_EmptyStores_MigratesBothAndRecordsItInTheAuditTrail()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(0);
        output.ShouldContain($"compliance: migrated from version 0 to {Target("compliance")}");
        output.ShouldContain($"vault: migrated from version 0 to {Target("vault")}");
        output.ShouldContain(provider == DatabaseProvider.PostgreSQL ? "jobs: migrated from version 0 to" : "jobs: kept in memory on the embedded default");
        (await StatusAsync(Store.Compliance)).IsCurrent.ShouldBeTrue();
        (await StatusAsync(Store.Vault)).IsCurrent.ShouldBeTrue();
        (await CountAuditEventsAsync(AuditEventTypes.SchemaMigrated.Id)).ShouldBe(MigratedStoreCount);
    }

    [Fact]
    public async Task Migrate_SecondRun_ReportsUpToDateAndRecordsNothing()
    {
        await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)]);

        var (exitCode, output, _) = await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(0);
        output.ShouldContain($"compliance: up to date at version {Target("compliance")}");
        (await CountAuditEventsAsync(AuditEventTypes.SchemaMigrated.Id)).ShouldBe(MigratedStoreCount);
    }

    [Fact]
    public async Task MigrateStatus_EmptyStores_ListsPendingChangesNothingAndExits1()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync(["migrate", "--status", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(1);
        output.ShouldContain($"compliance: version 0 of {Target("compliance")}; pending [{string.Join(", ", Enumerable.Range(1, Target("compliance")))}]");
        (await StatusAsync(Store.Compliance)).Applied.ShouldBeEmpty();
    }

    [Fact]
    public async Task Migrate_OnlyTheVault_LeavesTheComplianceStoreAlone()
    {
        var (exitCode, _, _) = await CliRunner.RunAsync(["migrate", "--store", "vault", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(0);
        (await StatusAsync(Store.Vault)).IsCurrent.ShouldBeTrue();
        (await StatusAsync(Store.Compliance)).Applied.ShouldBeEmpty();
    }

    [Fact]
    public async Task Migrate_DatabaseNewerThanBuild_RefusesWithExit1()
    {
        await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)]);
        await ExecuteAsync(Store.Compliance,
            "INSERT INTO schema_history (version, name, checksum, applied_at, applied_by, execution_ms) VALUES (99, 'future', 'x', '2030-01-01T00:00:00Z', 'test', 0)");

        var (exitCode, _, error) = await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(1);
        error.ShouldContain("newer than this build");
    }

    // On PostgreSQL the job store's schema is migrated (and audited) with the two stores; on SQLite jobs are in memory.
    private int MigratedStoreCount => provider == DatabaseProvider.PostgreSQL ? 3 : 2;

    private int Target(string store) => MigrationCatalog.For(store, provider == DatabaseProvider.Sqlite ? "sqlite" : "postgresql").Max(m => m.Version);

    private Task<SchemaStatus> StatusAsync(Store store) =>
        new SchemaMigrator(Connection(store), TimeProvider.System, NullLogger<SchemaMigrator>.Instance).GetStatusAsync(CancellationToken.None);

    private StoreConnection Connection(Store store) => new(
        store,
        provider,
        _settings[store == Store.Compliance ? "Storage:ComplianceConnectionString" : "Storage:VaultConnectionString"]!);

    private Task<long> CountAuditEventsAsync(int eventId) =>
        StoreSql.CountAsync(Connection(Store.Compliance), $"SELECT count(*) FROM audit_events WHERE event_id = {eventId}");

    private Task ExecuteAsync(Store store, string sql) =>
        StoreSql.ExecuteAsync(Connection(store), provider == DatabaseProvider.PostgreSQL ? sql.Replace("'2030-01-01T00:00:00Z'", "now()") : sql);
}

public sealed class MigrateCommandTests_Sqlite() : MigrateCommandTests(DatabaseProvider.Sqlite);

public sealed class MigrateCommandTests_Postgres() : MigrateCommandTests(DatabaseProvider.PostgreSQL);
