using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Migrations;
using Compliance.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Data.Tests.Migrations;

public abstract class SchemaMigratorTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    [Theory]
    [InlineData(Store.Compliance)]
    [InlineData(Store.Vault)]
    public async Task Migrate_EmptyStore_AppliesEveryMigrationAndRecordsIt(Store store)
    {
        var connection = await _empty.CreateAsync(provider, store);
        var migrator = Migrator(connection);

        var status = await migrator.MigrateAsync(CancellationToken.None);

        var shipped = MigrationCatalog.For(connection.StoreName, connection.ProviderName);
        status.IsCurrent.ShouldBeTrue();
        status.Applied.ShouldBe(shipped.Select(m => m.Version));
        var history = await HistoryAsync(connection);
        history.ShouldBe(shipped.Select(m => (m.Version, m.Checksum)));
    }

    [Fact]
    public async Task Migrate_AlreadyCurrent_ChangesNothing()
    {
        var connection = await _empty.CreateAsync(provider, Store.Compliance);
        await Migrator(connection).MigrateAsync(CancellationToken.None);
        var before = await HistoryAsync(connection);

        var status = await Migrator(connection).MigrateAsync(CancellationToken.None);

        status.IsCurrent.ShouldBeTrue();
        (await HistoryAsync(connection)).ShouldBe(before);
    }

    [Fact]
    public async Task EnsureCurrent_EmptyStore_RefusesWithTheWayOut()
    {
        var connection = await _empty.CreateAsync(provider, Store.Vault);

        var refusal = await Should.ThrowAsync<SchemaNotReadyException>(() => Migrator(connection).EnsureCurrentAsync(CancellationToken.None));

        refusal.Message.ShouldContain("vault");
        refusal.Message.ShouldContain("compliance migrate");
        refusal.Message.ShouldContain("Storage:MigrateOnStart");
    }

    [Fact]
    public async Task Migrate_ShippedScriptWasEdited_RefusesAndAppliesNothing()
    {
        var connection = await _empty.CreateAsync(provider, Store.Compliance);
        var original = new MigrationScript(1, "one", "CREATE TABLE one (id integer NOT NULL PRIMARY KEY);");
        await Migrator(connection, original).MigrateAsync(CancellationToken.None);
        var edited = original with { Sql = "CREATE TABLE one (id integer NOT NULL PRIMARY KEY, extra integer);" };
        var next = new MigrationScript(2, "two", "CREATE TABLE two (id integer NOT NULL PRIMARY KEY);");

        var refusal = await Should.ThrowAsync<SchemaNotReadyException>(() => Migrator(connection, edited, next).MigrateAsync(CancellationToken.None));

        refusal.Message.ShouldContain("edited");
        (await HistoryAsync(connection)).Select(h => h.Version).ShouldBe([1]);
    }

    [Fact]
    public async Task Migrate_DatabaseNewerThanBuild_Refuses()
    {
        var connection = await _empty.CreateAsync(provider, Store.Compliance);
        var one = new MigrationScript(1, "one", "CREATE TABLE one (id integer NOT NULL PRIMARY KEY);");
        var two = new MigrationScript(2, "two", "CREATE TABLE two (id integer NOT NULL PRIMARY KEY);");
        await Migrator(connection, one, two).MigrateAsync(CancellationToken.None);

        var refusal = await Should.ThrowAsync<SchemaNotReadyException>(() => Migrator(connection, one).EnsureCurrentAsync(CancellationToken.None));

        refusal.Message.ShouldContain("newer than this build");
    }

    [Fact]
    public async Task Migrate_ScriptFailsHalfway_LeavesNeitherItsChangesNorItsHistory()
    {
        var connection = await _empty.CreateAsync(provider, Store.Compliance);
        var good = new MigrationScript(1, "good", "CREATE TABLE good (id integer NOT NULL PRIMARY KEY);");
        var broken = new MigrationScript(2, "broken",
            "CREATE TABLE half (id integer NOT NULL PRIMARY KEY);\nINSERT INTO no_such_table (id) VALUES (1);");

        await Should.ThrowAsync<System.Data.Common.DbException>(() => Migrator(connection, good, broken).MigrateAsync(CancellationToken.None));

        (await HistoryAsync(connection)).Select(h => h.Version).ShouldBe([1]);
        (await TableExistsAsync(connection, "good")).ShouldBeTrue();
        (await TableExistsAsync(connection, "half")).ShouldBeFalse();
    }

    [Fact]
    public async Task Migrate_ManyNodesAtOnce_EachMigrationRunsOnce()
    {
        var connection = await _empty.CreateAsync(provider, Store.Compliance);
        // A slow first migration widens the window in which the nodes race.
        var slow = provider == DatabaseProvider.PostgreSQL ? "SELECT pg_sleep(0.3);" : "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) SELECT count(*) FROM n;";
        var migrations = new[]
        {
            new MigrationScript(1, "one", slow + "\nCREATE TABLE one (id integer NOT NULL PRIMARY KEY);"),
            new MigrationScript(2, "two", "CREATE TABLE two (id integer NOT NULL PRIMARY KEY);"),
        };

        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Migrator(connection, migrations).MigrateAsync(CancellationToken.None))));

        statuses.ShouldAllBe(s => s.IsCurrent);
        (await HistoryAsync(connection)).Select(h => h.Version).ShouldBe([1, 2]);
    }

    [Fact]
    public async Task GetStatus_UnreachableStore_NamesTheSettingButNotTheSecret()
    {
        var connection = provider == DatabaseProvider.PostgreSQL
            ? new StoreConnection(Store.Compliance, provider, "Host=127.0.0.1;Port=1;Database=nowhere;Username=u;Password=Sup3rSecret!;Timeout=2")
            : new StoreConnection(Store.Compliance, provider, "Data Source=/proc/no-such-dir/compliance.db;Mode=ReadOnly");

        var failure = await Should.ThrowAsync<StoreUnavailableException>(() => Migrator(connection).GetStatusAsync(CancellationToken.None));

        failure.Message.ShouldContain("Storage:ComplianceConnectionString");
        failure.Message.ShouldNotContain("Sup3rSecret!");
    }

    private static SchemaMigrator Migrator(StoreConnection connection, params MigrationScript[] migrations) =>
        migrations.Length == 0
            ? new SchemaMigrator(connection, TimeProvider.System, NullLogger<SchemaMigrator>.Instance)
            : new SchemaMigrator(connection, migrations, TimeProvider.System, NullLogger<SchemaMigrator>.Instance);

    private static async Task<List<(int Version, string Checksum)>> HistoryAsync(StoreConnection connection)
    {
        await using var db = StoreSql.Connect(connection);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT version, checksum FROM schema_history ORDER BY version";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1).Trim()));
        }

        return rows;
    }

    private static async Task<bool> TableExistsAsync(StoreConnection connection, string table) =>
        await StoreSql.CountAsync(connection, connection.Provider == DatabaseProvider.PostgreSQL
            ? $"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"
            : $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'") > 0;
}

public sealed class SchemaMigratorTests_Sqlite() : SchemaMigratorTests(DatabaseProvider.Sqlite);

public sealed class SchemaMigratorTests_Postgres() : SchemaMigratorTests(DatabaseProvider.PostgreSQL);
