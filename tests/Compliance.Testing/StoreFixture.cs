using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace Compliance.Testing;

/// <summary>
/// Both stores, migrated, fresh for one test class: cloned from a template migrated once per run
/// (<c>CREATE DATABASE … TEMPLATE</c> on PostgreSQL, a copied file on SQLite).
/// </summary>
public abstract class StoreFixture : IAsyncLifetime
{
    public abstract DatabaseProvider Provider { get; }

    /// <summary>The <c>Storage:*</c> settings that point a host at this class's stores.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; protected set; } = new Dictionary<string, string?>();

    public StoreConnection Compliance => Options().ConnectionFor(Store.Compliance);

    public StoreConnection Vault => Options().ConnectionFor(Store.Vault);

    public StorageOptions Options()
    {
        var options = new StorageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(Settings).Build().GetSection(StorageOptions.SectionName).Bind(options);
        return options;
    }

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Installs the PostgreSQL job store in its default schema of the compliance database, as `compliance migrate --store jobs` does.</summary>
    public static async Task MigrateJobStoreAsync(string complianceConnectionString) =>
        await new JobStoreMigrator(complianceConnectionString, "hangfire", TimeProvider.System, NullLogger.Instance).MigrateAsync(CancellationToken.None);

    protected static async Task MigrateAsync(StoreConnection store) =>
        await new SchemaMigrator(store, TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
}

/// <summary>Fresh SQLite stores in a temporary data folder.</summary>
public sealed class SqliteStores : StoreFixture
{
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync);
    private string? _directory;

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    public string DataDirectory => _directory ?? throw new InvalidOperationException("Not initialised.");

    public override async Task InitializeAsync()
    {
        var template = await Template.Value;
        _directory = Directory.CreateTempSubdirectory("compliance-test-").FullName;
        File.Copy(Path.Combine(template, "compliance.db"), Path.Combine(_directory, "compliance.db"));
        File.Copy(Path.Combine(template, "vault.db"), Path.Combine(_directory, "vault.db"));
        Settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Sqlite",
            ["Storage:DataDirectory"] = _directory,
        };
    }

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static async Task<string> CreateTemplateAsync()
    {
        var directory = Directory.CreateTempSubdirectory("compliance-template-").FullName;
        var options = new StorageOptions { Provider = "Sqlite", DataDirectory = directory };
        await MigrateAsync(options.ConnectionFor(Store.Compliance));
        await MigrateAsync(options.ConnectionFor(Store.Vault));

        // Fold the write-ahead log into the main files so that a plain copy is complete.
        foreach (var store in Enum.GetValues<Store>())
        {
            await using var connection = new SqliteConnection(options.ConnectionFor(store).ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;";
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        return directory;
    }
}

/// <summary>Fresh PostgreSQL databases (compliance, with the job store's schema, and vault) on the run's server.</summary>
public sealed class PostgresStores : StoreFixture
{
    private static readonly Lazy<Task<(string Compliance, string Vault)>> Templates = new(CreateTemplatesAsync);
    private readonly List<string> _databases = [];

    public override DatabaseProvider Provider => DatabaseProvider.PostgreSQL;

    public override async Task InitializeAsync()
    {
        var (complianceTemplate, vaultTemplate) = await Templates.Value;
        var compliance = PostgresServer.NewDatabaseName("compliance");
        var vault = PostgresServer.NewDatabaseName("vault");
        await PostgresServer.CreateDatabaseAsync(compliance, complianceTemplate);
        await PostgresServer.CreateDatabaseAsync(vault, vaultTemplate);
        _databases.AddRange([compliance, vault]);
        Settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "PostgreSQL",
            ["Storage:ComplianceConnectionString"] = PostgresServer.ConnectionStringFor(compliance),
            ["Storage:VaultConnectionString"] = PostgresServer.ConnectionStringFor(vault),
        };
    }

    public override async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    private static async Task<(string, string)> CreateTemplatesAsync()
    {
        var compliance = PostgresServer.NewDatabaseName("tpl_compliance");
        var vault = PostgresServer.NewDatabaseName("tpl_vault");
        await PostgresServer.CreateDatabaseAsync(compliance);
        await PostgresServer.CreateDatabaseAsync(vault);
        await MigrateAsync(new StoreConnection(Store.Compliance, DatabaseProvider.PostgreSQL, PostgresServer.ConnectionStringFor(compliance)));
        await MigrateAsync(new StoreConnection(Store.Vault, DatabaseProvider.PostgreSQL, PostgresServer.ConnectionStringFor(vault)));

        // The job store's schema, as `compliance migrate` installs it: a PostgreSQL host refuses to start without it.
        await MigrateJobStoreAsync(PostgresServer.ConnectionStringFor(compliance));

        // A template database must have no open connection when it is cloned.
        NpgsqlConnection.ClearAllPools();
        return (compliance, vault);
    }
}
