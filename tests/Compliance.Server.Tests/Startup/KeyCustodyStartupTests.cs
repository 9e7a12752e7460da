using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Data.Sqlite;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// The real process and its key-encryption key: created on purpose in production, never silently replaced while the
/// store holds keys that only the missing one can read.
/// </summary>
public abstract class KeyCustodyStartupTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-kek-start-").FullName;
    private Dictionary<string, string?> _settings = [];

    private string KekPath => Path.Combine(_dataDirectory, "kek.key");

    public async Task InitializeAsync() => _settings = await MigratedStores.CreateAsync(_empty, provider, _dataDirectory);

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Start_ProductionWithoutKek_RefusesNamingKeysInitAndCreatesNone()
    {
        await using var server = ServerProcess.Start(With(("Keys:CreateKekIfMissing", null)));

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain($"Keys:LocalKekPath: there is no key-encryption key at '{KekPath}'");
        server.StandardError.ShouldContain("compliance keys init");
        server.StandardError.ShouldContain("Keys:CreateKekIfMissing=true");
        ShouldHaveNoStackTrace(server);
        File.Exists(KekPath).ShouldBeFalse();
    }

    [Fact]
    public async Task Start_KekMissingWhileStoreHoldsWrappedKeys_RefusesEvenWhenAllowedToCreateOne()
    {
        await using (var first = ServerProcess.Start(_settings))
        {
            await first.WaitUntilReadyAsync();
        }

        File.Delete(KekPath);
        await using var server = ServerProcess.Start(With(("Keys:CreateKekIfMissing", "true")));

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain($"Keys:LocalKekPath: the key-encryption key file '{KekPath}' is missing, but the compliance store holds");
        server.StandardError.ShouldContain("Restore that file from its backup");
        ShouldHaveNoStackTrace(server);
        File.Exists(KekPath).ShouldBeFalse("a new key would change every pairwise subject");
    }

    [Fact]
    public async Task Start_DevelopmentWithoutKek_CreatesItAndLogsItAsInformation()
    {
        await using var server = ServerProcess.Start(With(
            ("Keys:CreateKekIfMissing", null), ("ASPNETCORE_ENVIRONMENT", "Development"), ("DOTNET_ENVIRONMENT", "Development")));

        await server.WaitUntilReadyAsync();

        File.GetUnixFileMode(KekPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var created = server.StandardOutput.Split('\n').Single(line => line.Contains("\"EventId\":1300,", StringComparison.Ordinal));
        created.ShouldContain("\"LogLevel\":\"Information\"");
        created.ShouldContain($"Created a new key-encryption key local:");
        created.ShouldContain($" at {KekPath}");
    }

    private Dictionary<string, string?> With(params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>(_settings);
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }

    private static void ShouldHaveNoStackTrace(ServerProcess server)
    {
        (server.StandardError + server.StandardOutput).ShouldNotContain("   at ");
        server.StandardError.Trim().Split('\n').Length.ShouldBe(1);
    }
}

public sealed class KeyCustodyStartupTests_Sqlite() : KeyCustodyStartupTests(DatabaseProvider.Sqlite);

public sealed class KeyCustodyStartupTests_Postgres() : KeyCustodyStartupTests(DatabaseProvider.PostgreSQL);
