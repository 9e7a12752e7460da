using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Data.Sqlite;

namespace Compliance.Server.Tests.Startup;

/// <summary>The demo client and account (public secrets) that Development seeds never reach a production start unnoticed.</summary>
public abstract class DemoSeedStartupTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-demo-start-").FullName;
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync() => _settings = await MigratedStores.CreateAsync(_empty, provider, _dataDirectory);

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Start_ProductionWhileTheDevelopmentDemoExists_RefusesSayingHowToRemoveIt()
    {
        await using (var development = ServerProcess.Start(new Dictionary<string, string?>(_settings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
        }))
        {
            await development.WaitUntilReadyAsync();
        }

        await using var server = ServerProcess.Start(_settings);

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain("Oidc:SeedDemo: the demo client 'demo-client' and the demo account 'demo' exist");
        server.StandardError.ShouldContain("compliance demo remove");
        server.StandardError.ShouldContain("Oidc:SeedDemo=true");
        (server.StandardError + server.StandardOutput).ShouldNotContain("   at ");
        server.StandardError.Trim().Split('\n').Length.ShouldBe(1);
    }
}

public sealed class DemoSeedStartupTests_Sqlite() : DemoSeedStartupTests(DatabaseProvider.Sqlite);

public sealed class DemoSeedStartupTests_Postgres() : DemoSeedStartupTests(DatabaseProvider.PostgreSQL);
