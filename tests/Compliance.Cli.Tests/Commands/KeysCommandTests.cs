using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Tests.Commands;

public abstract class KeysCommandTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-cli-keys-").FullName;
    private Dictionary<string, string?> _settings = [];

    private string KekPath => Path.Combine(_directory, "kek.key");

    public async Task InitializeAsync()
    {
        _settings = await _empty.CreateSettingsAsync(provider);
        _settings["Storage:DataDirectory"] = _directory;
        (await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)])).ExitCode.ShouldBe(0);
    }

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task KeysInit_MigratedStoresWithoutKek_CreatesItOwnerOnlyAndPrintsItsId()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(0);
        output.ShouldContain("Created the key-encryption key local:");
        output.ShouldContain($" at {KekPath}.");
        File.GetUnixFileMode(KekPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task KeysInit_IsAuditedByTheKeksIdAndTheOperator_NeverItsMaterialOrPath()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync(["keys", "init", "--operator", "ops.claire", .. CliRunner.Settings(_settings)]);
        exitCode.ShouldBe(0, error);
        var kekId = output.Split("key-encryption key ")[1].Split(' ')[0];

        var compliance = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().GetSection(StorageOptions.SectionName).Get<StorageOptions>()!.ConnectionFor(Store.Compliance);
        var row = (await AuditRows.ReadAsync(compliance, AuditEventTypes.KeyEncryptionKeyCreated.Id)).ShouldHaveSingleItem();

        row.Name.ShouldBe("keys.kek_created");
        row.Actor.ShouldBe("operator:ops.claire");
        row.SubjectId.ShouldBeNull();
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
        var details = JsonDocument.Parse(row.Details!).RootElement;
        details.GetProperty("kek_id").GetString().ShouldBe(kekId);
        details.GetProperty("custody").GetString().ShouldBe("local-file");
        row.AllText.ShouldNotContain(_directory);
        var material = Convert.ToBase64String(await File.ReadAllBytesAsync(KekPath));
        row.AllText.ShouldNotContain(material[..16]);
    }

    [Fact]
    public async Task KeysInit_Refused_RecordsNothing()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);

        var compliance = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().GetSection(StorageOptions.SectionName).Get<StorageOptions>()!.ConnectionFor(Store.Compliance);
        (await AuditRows.ReadAsync(compliance, AuditEventTypes.KeyEncryptionKeyCreated.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task KeysInit_KekAlreadyExists_RefusesAndLeavesTheFileAlone()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        var before = await File.ReadAllBytesAsync(KekPath);

        var (exitCode, _, error) = await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(1);
        error.ShouldContain($"Keys:LocalKekPath: a key-encryption key already exists at '{KekPath}'");
        (await File.ReadAllBytesAsync(KekPath)).ShouldBe(before);
    }

    [Fact]
    public async Task KeysInit_StoreHoldsKeysWrappedByAMissingKek_RefusesAndCreatesNone()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        await CreateSigningKeysAsync();
        File.Delete(KekPath);

        var (exitCode, _, error) = await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);

        exitCode.ShouldBe(1);
        error.ShouldContain($"Keys:LocalKekPath: the key-encryption key file '{KekPath}' is missing, but the compliance store holds");
        error.ShouldContain("by key-encryption key 'local:");
        File.Exists(KekPath).ShouldBeFalse();
    }

    [Fact]
    public async Task KeysInit_UnmigratedStore_RefusesNamingMigrate()
    {
        var fresh = await _empty.CreateSettingsAsync(provider);
        fresh["Storage:DataDirectory"] = _directory;

        var (exitCode, _, error) = await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(fresh)]);

        exitCode.ShouldBe(1);
        error.ShouldContain("compliance migrate");
        File.Exists(KekPath).ShouldBeFalse();
    }

    private async Task CreateSigningKeysAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        await using var services = new ServiceCollection().AddLogging()
            .AddComplianceData(configuration, gateStartup: false)
            .AddComplianceKeys(configuration)
            .BuildServiceProvider();
        await services.GetRequiredService<ISigningKeys>().RotateAsync(CancellationToken.None);
    }
}

public sealed class KeysCommandTests_Sqlite() : KeysCommandTests(DatabaseProvider.Sqlite);

public sealed class KeysCommandTests_Postgres() : KeysCommandTests(DatabaseProvider.PostgreSQL);
