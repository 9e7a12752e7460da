using System.Text.Json;
using Compliance.Data.Storage;
using Compliance.Testing;
using Npgsql;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// What the real process says as it starts: one line with where it listens and which stores it uses, never a store
/// password; and a refusal when it listens elsewhere than the default while the issuer still names the default.
/// </summary>
public sealed class StartupLineTests : IAsyncDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-startline-").FullName;
    private readonly EmptyStores _empty = new();

    public async ValueTask DisposeAsync()
    {
        await _empty.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Start_Sqlite_LogsOneLineWithAddressIssuerAndBothFiles()
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = _dataDirectory });
        await server.WaitUntilReadyAsync();

        var message = ReadyMessage(server);

        message.ShouldBe($"Compliance service {Version(message)} ready: listening on {server.BaseAddress.ToString().TrimEnd('/')}, "
            + $"issuer {server.BaseAddress.ToString().TrimEnd('/')}; stores on Sqlite: compliance {Path.Combine(_dataDirectory, "compliance.db")}, "
            + $"vault {Path.Combine(_dataDirectory, "vault.db")}");
    }

    [Fact]
    public async Task Start_PostgreSQL_LogsHostPortAndDatabaseButNeverThePassword()
    {
        const string password = "Str0ng-Pa55word-Never-Logged";
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        var compliance = new NpgsqlConnectionStringBuilder(settings["Storage:ComplianceConnectionString"]) { Password = password };
        var vault = new NpgsqlConnectionStringBuilder(settings["Storage:VaultConnectionString"]) { Password = password };
        settings["Storage:ComplianceConnectionString"] = compliance.ConnectionString;
        settings["Storage:VaultConnectionString"] = vault.ConnectionString;
        settings["Storage:MigrateOnStart"] = "true";
        settings["Storage:DataDirectory"] = _dataDirectory;

        await using var server = ServerProcess.Start(settings);
        await server.WaitUntilReadyAsync();

        ReadyMessage(server).ShouldEndWith($"stores on PostgreSQL: compliance {compliance.Host}:{compliance.Port}/{compliance.Database}, "
            + $"vault {vault.Host}:{vault.Port}/{vault.Database}");
        (server.StandardOutput + server.StandardError).ShouldNotContain(password);
        (server.StandardOutput + server.StandardError).ShouldNotContain("Password=", Case.Insensitive);
    }

    [Fact]
    public async Task Start_UrlsSetWithoutIssuer_RefusesNamingBothSettings()
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            ["Oidc:Issuer"] = null,
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.Trim().ShouldBe($"compliance: start refused: Urls: set to 'http://127.0.0.1:{server.Port}' while Oidc:Issuer is not set, "
            + "so the issuer would stay http://127.0.0.1:5080; set Oidc:Issuer to the URL partners reach this service at.");
    }

    private static string ReadyMessage(ServerProcess server)
    {
        var lines = server.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(entry => entry.GetProperty("EventId").GetInt32() == 1201)
            .Select(entry => entry.GetProperty("Message").GetString()!)
            .ToList();
        return lines.ShouldHaveSingleItem();
    }

    private static string Version(string message) => message.Split(' ')[2];
}
