using Compliance.Audit;
using Compliance.Consent;
using Compliance.Data;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Jobs.Notices;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Testing;
using Compliance.Vault;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Migrations.Tests;

/// <summary>
/// The hand-written migrations and the EF model must describe the same schema: a database built by the migrations
/// and one built from the model are read back from the catalogue and compared.
/// </summary>
public abstract class SchemaDriftTests<TStores>(TStores migrated) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly EmptyStores _empty = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    [Fact]
    public async Task ComplianceStore_MigratedSchema_MatchesTheModel()
    {
        var fromModel = await _empty.CreateAsync(migrated.Provider, Store.Compliance);
        await CreateFromModelAsync<ComplianceDbContext>(fromModel);

        var expected = await SchemaSnapshot.ReadAsync(fromModel);
        var actual = await SchemaSnapshot.ReadAsync(migrated.Compliance);

        expected.Lines.ShouldNotBeEmpty();
        actual.ToString().ShouldBe(expected.ToString());
    }

    [Fact]
    public async Task VaultStore_MigratedSchema_MatchesTheModel()
    {
        var fromModel = await _empty.CreateAsync(migrated.Provider, Store.Vault);
        await CreateFromModelAsync<VaultDbContext>(fromModel);

        var expected = await SchemaSnapshot.ReadAsync(fromModel);
        var actual = await SchemaSnapshot.ReadAsync(migrated.Vault);

        expected.Lines.ShouldNotBeEmpty();
        actual.ToString().ShouldBe(expected.ToString());
    }

    [Fact]
    public async Task Snapshot_ColumnMissingFromMigration_IsSeenAsDrift()
    {
        // The comparison itself must notice a difference, or the two tests above prove nothing.
        var fromModel = await _empty.CreateAsync(migrated.Provider, Store.Vault);
        await CreateFromModelAsync<VaultDbContext>(fromModel);
        await ExecuteAsync(fromModel, "CREATE INDEX ix_extra ON access_traces (actor)");

        var expected = await SchemaSnapshot.ReadAsync(fromModel);
        var actual = await SchemaSnapshot.ReadAsync(migrated.Vault);

        actual.ShouldNotBe(expected);
    }

    private static async Task CreateFromModelAsync<TContext>(StoreConnection target)
        where TContext : DbContext
    {
        await using var services = Services(target);
        await using var scope = services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        await context.Database.ExecuteSqlRawAsync(context.Database.GenerateCreateScript());
    }

    private static async Task ExecuteAsync(StoreConnection target, string sql)
    {
        await using var services = Services(target);
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<VaultDbContext>().Database.ExecuteSqlRawAsync(sql);
    }

    private static ServiceProvider Services(StoreConnection target)
    {
        // Only the target store is used; the other setting must merely name a distinct database to pass validation.
        var settings = new Dictionary<string, string?> { ["Storage:Provider"] = target.Provider.ToString() };
        settings[target.SettingName] = target.ConnectionString;
        var other = target.Store == Store.Compliance ? "Storage:VaultConnectionString" : "Storage:ComplianceConnectionString";
        settings[other] = target.Provider == DatabaseProvider.Sqlite
            ? $"Data Source={Path.Combine(Path.GetTempPath(), "unused-other-store.db")}"
            : PostgresServer.ConnectionStringFor("unused_other_store");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddLogging()
            .AddComplianceData(configuration, gateStartup: false)
            .AddComplianceAudit()
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .AddComplianceNotices()
            .AddComplianceConsent(configuration)
            .AddComplianceVault()
            .BuildServiceProvider();
    }
}

public sealed class SchemaDriftTests_Sqlite(SqliteStores stores) : SchemaDriftTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SchemaDriftTests_Postgres(PostgresStores stores) : SchemaDriftTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
