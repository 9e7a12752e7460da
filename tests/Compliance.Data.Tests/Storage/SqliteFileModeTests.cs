using System.Runtime.Versioning;
using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Data.Tests.Storage;

/// <summary>The SQLite files hold health-related data: other users of the machine must not read them.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class SqliteFileModeTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-modes-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(Store.Compliance, "compliance.db")]
    [InlineData(Store.Vault, "vault.db")]
    public async Task Migrate_NewSqliteStore_CreatesTheDatabaseAndItsWriteAheadLogOwnerOnly(Store store, string file)
    {
        var connection = new StorageOptions { DataDirectory = _directory }.ConnectionFor(store);

        await new SchemaMigrator(connection, TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);

        // While a connection is open in WAL mode, the -wal and -shm files exist beside the database.
        await using var open = new SqliteConnection(connection.ConnectionString);
        await open.OpenAsync();
        await using (var write = open.CreateCommand())
        {
            write.CommandText = "CREATE TABLE probe (id INTEGER); INSERT INTO probe VALUES (1);";
            await write.ExecuteNonQueryAsync();
        }

        foreach (var name in new[] { file, file + "-wal", file + "-shm" })
        {
            var path = Path.Combine(_directory, name);
            File.Exists(path).ShouldBeTrue(name);
            File.GetUnixFileMode(path).ShouldBe(OwnerOnly, name);
        }
    }

    [Fact]
    public async Task Migrate_SqliteFileNamedByConnectionString_IsCreatedOwnerOnly()
    {
        var path = Path.Combine(_directory, "elsewhere.db");
        var connection = new StoreConnection(Store.Compliance, DatabaseProvider.Sqlite, $"Data Source={path};Pooling=False");

        await new SchemaMigrator(connection, TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);

        File.GetUnixFileMode(path).ShouldBe(OwnerOnly);
    }
}
