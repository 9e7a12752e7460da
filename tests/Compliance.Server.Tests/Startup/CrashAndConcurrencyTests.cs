using System.Net;
using System.Net.Sockets;
using System.Text;
using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Server.Tests.Startup;

/// <summary>The real process, killed mid-start, started twice at once, stopped, and sent hostile bytes.</summary>
public sealed class CrashAndConcurrencyTests : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-crash-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    public static TheoryData<string> KillPoints => ["at once", "after the first migration", "after 400 ms", "after 900 ms"];

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task EmbeddedDefault_KilledDuringFirstStart_RestartsHealthyWithConsistentSchema(string killPoint)
    {
        var settings = new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(_root, Guid.NewGuid().ToString("N")) };

        await using (var first = ServerProcess.Start(settings))
        {
            await KillAsync(first, killPoint);
        }

        await using var second = ServerProcess.Start(settings);
        await second.WaitUntilReadyAsync();

        var options = new StorageOptions { DataDirectory = settings["Storage:DataDirectory"] };
        await ShouldBeExactlyMigratedAsync(options.ConnectionFor(Store.Compliance));
        await ShouldBeExactlyMigratedAsync(options.ConnectionFor(Store.Vault));
    }

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task Postgres_KilledDuringFirstMigratingStart_RestartsHealthyWithConsistentSchema(string killPoint)
    {
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        settings["Storage:MigrateOnStart"] = "true";

        await using (var first = ServerProcess.Start(settings))
        {
            await KillAsync(first, killPoint);
        }

        await using var second = ServerProcess.Start(settings);
        await second.WaitUntilReadyAsync();

        await ShouldBeExactlyMigratedAsync(new StoreConnection(Store.Compliance, DatabaseProvider.PostgreSQL, settings["Storage:ComplianceConnectionString"]!));
        await ShouldBeExactlyMigratedAsync(new StoreConnection(Store.Vault, DatabaseProvider.PostgreSQL, settings["Storage:VaultConnectionString"]!));
    }

    [Fact]
    public async Task Postgres_TwoServersStartAtOnceOnEmptyDatabases_BothHealthyWithOneHistory()
    {
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        settings["Storage:MigrateOnStart"] = "true";

        await using var first = ServerProcess.Start(settings);
        await using var second = ServerProcess.Start(settings);
        await Task.WhenAll(first.WaitUntilReadyAsync(), second.WaitUntilReadyAsync());

        await ShouldBeExactlyMigratedAsync(new StoreConnection(Store.Compliance, DatabaseProvider.PostgreSQL, settings["Storage:ComplianceConnectionString"]!));
        await ShouldBeExactlyMigratedAsync(new StoreConnection(Store.Vault, DatabaseProvider.PostgreSQL, settings["Storage:VaultConnectionString"]!));
        var shipped = Compliance.Migrations.MigrationCatalog.For("compliance", "postgresql").Count + Compliance.Migrations.MigrationCatalog.For("vault", "postgresql").Count;
        (first.StandardOutput + second.StandardOutput).Split("\"EventId\":1000,").Length.ShouldBe(shipped + 1, "each migration runs on exactly one node");
    }

    [Fact]
    public async Task Postgres_ProductionOnUnmigratedDatabases_RefusesUntilMigrated()
    {
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);

        await using (var refused = ServerProcess.Start(settings))
        {
            (await refused.WaitForExitAsync()).ShouldBe(78);
            refused.StandardError.ShouldContain("compliance migrate");
        }

        foreach (var store in new[] { Store.Compliance, Store.Vault })
        {
            var key = store == Store.Compliance ? "Storage:ComplianceConnectionString" : "Storage:VaultConnectionString";
            await new SchemaMigrator(new StoreConnection(store, DatabaseProvider.PostgreSQL, settings[key]!), TimeProvider.System, NullLogger<SchemaMigrator>.Instance)
                .MigrateAsync(CancellationToken.None);
        }

        await new JobStoreMigrator(settings["Storage:ComplianceConnectionString"]!, "hangfire", TimeProvider.System, NullLogger.Instance).MigrateAsync(CancellationToken.None);

        await using var accepted = ServerProcess.Start(settings);
        await accepted.WaitUntilReadyAsync();
    }

    [Fact]
    public async Task NoConfiguration_StartsOnTheEmbeddedDefaultInTheUserDataFolder()
    {
        var dataHome = Path.Combine(_root, "xdg");
        // No setting at all: not even the one that lets a production start create the key-encryption key.
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["XDG_DATA_HOME"] = dataHome, ["Keys:CreateKekIfMissing"] = null });

        await server.WaitUntilReadyAsync();

        File.Exists(Path.Combine(dataHome, "compliance", "compliance.db")).ShouldBeTrue();
        File.Exists(Path.Combine(dataHome, "compliance", "vault.db")).ShouldBeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(Path.Combine(dataHome, "compliance")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Sigterm_RunningServer_StopsGracefullyWithExitCodeZero()
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(_root, "graceful") });
        await server.WaitUntilReadyAsync();

        server.Terminate();
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.ShouldBe(0);
        server.StandardOutput.ShouldContain("\"EventId\":1202,");
    }

    [Theory]
    [InlineData("GET /health/live?" + "x", 9000, "", 414)]
    [InlineData("GET /health/%00 HTTP/1.1", 0, "", 400)]
    [InlineData("GET /health/live HTTP/1.1", 0, "X-Big: ", 431)]
    [InlineData("BREW /health/live HTTP/1.1", 0, "", 405)]
    [InlineData("GET /health/live HTTP/9.9", 0, "", 505)]
    public async Task HostileRawRequest_AnswersA4xxOr505_NeverA500(string requestLine, int queryPadding, string bigHeader, int expected)
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(_root, "hostile") });
        await server.WaitUntilReadyAsync();
        var line = queryPadding > 0 ? requestLine + new string('a', queryPadding) + " HTTP/1.1" : requestLine;
        var header = bigHeader.Length > 0 ? $"{bigHeader}{new string('b', 40_000)}\r\n" : "";

        var status = await SendRawAsync(server.Port, $"{line}\r\nHost: 127.0.0.1\r\n{header}Connection: close\r\n\r\n");

        status.ShouldBe(expected);
    }

    private static async Task KillAsync(ServerProcess server, string killPoint)
    {
        switch (killPoint)
        {
            case "after the first migration":
                (await server.WaitForOutputAsync("\"EventId\":1000,", TimeSpan.FromSeconds(60))).ShouldBeTrue();
                break;
            case "after 400 ms":
                await Task.Delay(400);
                break;
            case "after 900 ms":
                await Task.Delay(900);
                break;
            default:
                break;
        }

        server.KillHard();
        await server.WaitForExitAsync();
    }

    private async Task ShouldBeExactlyMigratedAsync(StoreConnection store)
    {
        var reference = await _empty.CreateAsync(store.Provider, store.Store);
        var migrator = new SchemaMigrator(reference, TimeProvider.System, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(CancellationToken.None);

        var status = await new SchemaMigrator(store, TimeProvider.System, NullLogger<SchemaMigrator>.Instance).GetStatusAsync(CancellationToken.None);
        status.IsCurrent.ShouldBeTrue();
        status.Applied.Count.ShouldBe(migrator.TargetVersion);
        (await SchemaSnapshot.ReadAsync(store)).ToString().ShouldBe((await SchemaSnapshot.ReadAsync(reference)).ToString());
        await HistoryShouldHaveNoDuplicatesAsync(store);
    }

    private static async Task HistoryShouldHaveNoDuplicatesAsync(StoreConnection store) =>
        (await StoreSql.CountAsync(store, "SELECT count(*) - count(DISTINCT version) FROM schema_history")).ShouldBe(0);

    private static async Task<int> SendRawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var statusLine = await reader.ReadLineAsync() ?? "";
        return int.Parse(statusLine.Split(' ')[1]);
    }
}
