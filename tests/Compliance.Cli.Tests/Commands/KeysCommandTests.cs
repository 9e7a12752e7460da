using System.Security.Cryptography;
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

    [Fact]
    public async Task ExportEscrow_ThenTheKekIsLost_OpenEscrowRestoresTheSameKeyAndTheStoredKeysReadAgain()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        await CreateSigningKeysAsync();
        var original = await File.ReadAllBytesAsync(KekPath);
        using var operatorKey = RSA.Create(3072);
        var (publicKey, privateKey) = (Write("operator.pub.pem", operatorKey.ExportSubjectPublicKeyInfoPem()), Write("operator.pem", operatorKey.ExportPkcs8PrivateKeyPem()));
        var escrow = Path.Combine(_directory, "escrow.jwe");

        var exported = await CliRunner.RunAsync(["keys", "export-escrow", "--recipient", publicKey, "--out", escrow, "--operator", "ops.claire", .. CliRunner.Settings(_settings)]);

        exported.ExitCode.ShouldBe(0, exported.Error);
        File.GetUnixFileMode(escrow).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var jwe = await File.ReadAllTextAsync(escrow);
        jwe.Split('.').Length.ShouldBe(5, "a compact JWE");
        jwe.ShouldNotContain(Convert.ToBase64String(original[24..40]));
        var row = (await AuditRows.ReadAsync(Compliance, AuditEventTypes.KeyEscrowExported.Id)).ShouldHaveSingleItem();
        row.Actor.ShouldBe("operator:ops.claire");
        row.ShouldHoldOnlyIdsAndEnumeratedValues();

        File.Delete(KekPath);
        var opened = await CliRunner.RunAsync(["keys", "open-escrow", "--private-key", privateKey, "--in", escrow, "--restore", .. CliRunner.Settings(_settings)]);

        opened.ExitCode.ShouldBe(0, opened.Error);
        opened.Output.ShouldContain($"Restored the key-encryption key to {KekPath}.");
        opened.Output.ShouldNotContain(Convert.ToBase64String(original[24..40]));
        (await File.ReadAllBytesAsync(KekPath)).ShouldBe(original);
        File.GetUnixFileMode(KekPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var rotated = await CliRunner.RunAsync(["keys", "rotate-kek", .. CliRunner.Settings(_settings)]);
        rotated.ExitCode.ShouldBe(0, rotated.Error);
        rotated.Output.ShouldContain("already wrapped by local:");
    }

    [Fact]
    public async Task OpenEscrow_AnotherOperatorsKeyOrAnAlteredFile_IsRefusedAndRestoresNothing()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        using var operatorKey = RSA.Create(3072);
        using var stranger = RSA.Create(3072);
        var escrow = Path.Combine(_directory, "escrow.jwe");
        (await CliRunner.RunAsync(["keys", "export-escrow", "--recipient", Write("operator.pub.pem", operatorKey.ExportSubjectPublicKeyInfoPem()), "--out", escrow, .. CliRunner.Settings(_settings)]))
            .ExitCode.ShouldBe(0);
        File.Delete(KekPath);
        var jwe = await File.ReadAllTextAsync(escrow);
        var parts = jwe.Split('.');
        parts[3] = (parts[3][0] == 'A' ? "B" : "A") + parts[3][1..];
        var altered = Write("altered.jwe", string.Join('.', parts));

        var wrongKey = await CliRunner.RunAsync(["keys", "open-escrow", "--private-key", Write("stranger.pem", stranger.ExportPkcs8PrivateKeyPem()), "--in", escrow, "--restore", .. CliRunner.Settings(_settings)]);
        var tampered = await CliRunner.RunAsync(["keys", "open-escrow", "--private-key", Write("operator.pem", operatorKey.ExportPkcs8PrivateKeyPem()), "--in", altered, "--restore", .. CliRunner.Settings(_settings)]);

        wrongKey.ExitCode.ShouldBe(1);
        wrongKey.Error.ShouldContain("does not open with this private key");
        tampered.ExitCode.ShouldBe(1);
        tampered.Error.ShouldContain("does not open with this private key");
        File.Exists(KekPath).ShouldBeFalse();
    }

    [Fact]
    public async Task ExportEscrow_WeakRecipientOrExistingFile_IsRefusedAndRecordsNothing()
    {
        await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)]);
        using var weak = RSA.Create(2048);
        using var strong = RSA.Create(3072);
        var existing = Write("existing.jwe", "keep me");

        var tooWeak = await CliRunner.RunAsync(["keys", "export-escrow", "--recipient", Write("weak.pem", weak.ExportSubjectPublicKeyInfoPem()), "--out", Path.Combine(_directory, "e.jwe"), .. CliRunner.Settings(_settings)]);
        var overwrite = await CliRunner.RunAsync(["keys", "export-escrow", "--recipient", Write("strong.pem", strong.ExportSubjectPublicKeyInfoPem()), "--out", existing, .. CliRunner.Settings(_settings)]);

        tooWeak.ExitCode.ShouldNotBe(0);
        tooWeak.Error.ShouldContain("2048 bits");
        overwrite.ExitCode.ShouldNotBe(0);
        overwrite.Error.ShouldContain("already exists");
        (await File.ReadAllTextAsync(existing)).ShouldBe("keep me");
        File.Exists(Path.Combine(_directory, "e.jwe")).ShouldBeFalse();
        (await AuditRows.ReadAsync(Compliance, AuditEventTypes.KeyEscrowExported.Id)).ShouldBeEmpty();
    }

    private StoreConnection Compliance =>
        new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().GetSection(StorageOptions.SectionName).Get<StorageOptions>()!.ConnectionFor(Store.Compliance);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
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
