using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;

namespace Compliance.Testing;

/// <summary>Empty databases for tests of the migrations themselves; each is dropped when disposed.</summary>
public sealed class EmptyStores : IAsyncDisposable
{
    private readonly List<string> _postgresDatabases = [];
    private readonly List<string> _directories = [];

    /// <summary>A new, empty database for <paramref name="store"/> on <paramref name="provider"/>.</summary>
    public async Task<StoreConnection> CreateAsync(DatabaseProvider provider, Store store)
    {
        if (provider == DatabaseProvider.PostgreSQL)
        {
            var name = PostgresServer.NewDatabaseName(store == Store.Compliance ? "empty_compliance" : "empty_vault");
            await PostgresServer.CreateDatabaseAsync(name);
            _postgresDatabases.Add(name);
            return new StoreConnection(store, provider, PostgresServer.ConnectionStringFor(name));
        }

        var directory = Directory.CreateTempSubdirectory("compliance-empty-").FullName;
        _directories.Add(directory);
        return new StorageOptions { Provider = "Sqlite", DataDirectory = directory }.ConnectionFor(store);
    }

    /// <summary>Settings for a host whose two stores are new and empty.</summary>
    public async Task<Dictionary<string, string?>> CreateSettingsAsync(DatabaseProvider provider)
    {
        var compliance = await CreateAsync(provider, Store.Compliance);
        var vault = await CreateAsync(provider, Store.Vault);
        return new Dictionary<string, string?>
        {
            ["Storage:Provider"] = provider.ToString(),
            ["Storage:ComplianceConnectionString"] = compliance.ConnectionString,
            ["Storage:VaultConnectionString"] = vault.ConnectionString,
        };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _postgresDatabases)
        {
            await PostgresServer.DropDatabaseAsync(database);
        }

        SqliteConnection.ClearAllPools();
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A process under test may still hold a file; the temporary folder is cleaned with the machine.
            }
        }
    }
}
