using Compliance.Data;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Tests.Commands;

public abstract class DemoCommandTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync()
    {
        _settings = await _empty.CreateSettingsAsync(provider);
        (await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)])).ExitCode.ShouldBe(0);
    }

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    [Fact]
    public async Task DemoRemove_SeededDemo_RemovesTheClientAndTheAccount()
    {
        await using var services = Services();
        await new DemoSeed(services.GetRequiredService<IServiceScopeFactory>(), Options.Create(new OidcOptions { SeedDemo = true }),
            new ProductionEnvironment(), TimeProvider.System).StartAsync(CancellationToken.None);

        var (exitCode, output, _) = await CliRunner.RunAsync(["demo", "remove", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(0);
        output.ShouldContain("Removed the demo client 'demo-client'.");
        output.ShouldContain("Removed the demo account 'demo'.");
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        (await db.Set<Client>().AnyAsync(c => c.ClientId == DemoSeed.ClientId && c.RemovedAt == null)).ShouldBeFalse("removed: only its reserved id remains");
        (await db.Set<Account>().AnyAsync(a => a.UserName == DemoSeed.Pseudonym)).ShouldBeFalse();
    }

    private ServiceProvider Services()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        return new ServiceCollection().AddLogging()
            .AddComplianceData(configuration, gateStartup: false)
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .BuildServiceProvider();
    }

    private sealed class ProductionEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Production;

        public string ApplicationName { get; set; } = "Compliance.Server";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

public sealed class DemoCommandTests_Sqlite() : DemoCommandTests(DatabaseProvider.Sqlite);

public sealed class DemoCommandTests_Postgres() : DemoCommandTests(DatabaseProvider.PostgreSQL);
