using System.Globalization;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Compliance.Cli.Tests.Commands;

public abstract class AttestationKeysCommandTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-cli-attestation-").FullName;
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync()
    {
        _settings = await _empty.CreateSettingsAsync(provider);
        _settings["Storage:DataDirectory"] = _directory;
        (await CliRunner.RunAsync(["migrate", .. CliRunner.Settings(_settings)])).ExitCode.ShouldBe(0);
        (await CliRunner.RunAsync(["keys", "init", .. CliRunner.Settings(_settings)])).ExitCode.ShouldBe(0);
    }

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task RotateThenCompromise_ListShowsTheKeyRetiredAndCompromised_AndBothAreAudited()
    {
        var (rotated, rotateOutput, rotateError) = await CliRunner.RunAsync(["keys", "rotate-attestation-key", "--operator", "ops.claire", .. CliRunner.Settings(_settings)]);
        rotated.ShouldBe(0, rotateError);
        var kid = rotateOutput.Split("The attestation key ")[1].Split(' ')[0];
        var validFrom = rotateOutput.Split(" signs from ")[1].Split(';')[0];

        var (marked, markOutput, markError) = await CliRunner.RunAsync(
            ["keys", "compromise-attestation-key", kid, "--from", validFrom, "--operator", "ops.claire", .. CliRunner.Settings(_settings)]);
        var (_, list, _) = await CliRunner.RunAsync(["keys", "list", .. CliRunner.Settings(_settings)]);

        marked.ShouldBe(0, markError);
        markOutput.ShouldContain($"The attestation key {kid} is compromised from {validFrom}");
        var line = list.Split('\n').Single(l => l.StartsWith(kid, StringComparison.Ordinal)).TrimEnd('\r').Split('\t');
        line[1].ShouldBe(validFrom);
        line[2].ShouldNotBe("-", "the compromised current key was replaced first");
        line[3].ShouldBe(validFrom);
        list.Split('\n').Count(l => l.Contains("\t-\t-", StringComparison.Ordinal)).ShouldBe(1, "one current key, neither retired nor compromised");
        var audit = await AuditRows.ReadAsync(Compliance, AuditEventTypes.AttestationKeyCompromised.Id);
        audit.ShouldHaveSingleItem().Actor.ShouldBe("operator:ops.claire");
        (await AuditRows.ReadAsync(Compliance, AuditEventTypes.AttestationKeyCreated.Id)).ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData("unknown", "2026-01-01T00:00:00Z", 1, "No attestation key with kid")]
    [InlineData("current", "tomorrow", 2, "--from: expected an RFC 3339 UTC time")]
    [InlineData("current", "2026-12-01T10:00:00+02:00", 2, "--from: expected an RFC 3339 UTC time")]
    [InlineData("current", "future", 78, "is in the future")]
    [InlineData("current", "2000-01-01T00:00:00Z", 78, "before the key")]
    public async Task CompromiseAttestationKey_Refused_SaysWhyInOneLineAndMarksNothing(string which, string from, int exitCode, string reason)
    {
        var (_, rotateOutput, _) = await CliRunner.RunAsync(["keys", "rotate-attestation-key", .. CliRunner.Settings(_settings)]);
        var kid = which == "current" ? rotateOutput.Split("The attestation key ")[1].Split(' ')[0] : "unknown-kid-000000000000000000000000000000";
        if (from == "future")
        {
            from = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        var (code, _, error) = await CliRunner.RunAsync(["keys", "compromise-attestation-key", kid, "--from", from, .. CliRunner.Settings(_settings)]);

        code.ShouldBe(exitCode, error);
        error.ShouldContain(reason);
        error.Trim().ShouldNotContain("\n");
        (await AuditRows.ReadAsync(Compliance, AuditEventTypes.AttestationKeyCompromised.Id)).ShouldBeEmpty();
    }

    private StoreConnection Compliance =>
        new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().GetSection(StorageOptions.SectionName).Get<StorageOptions>()!.ConnectionFor(Store.Compliance);
}

public sealed class AttestationKeysCommandTests_Sqlite() : AttestationKeysCommandTests(DatabaseProvider.Sqlite);

public sealed class AttestationKeysCommandTests_Postgres() : AttestationKeysCommandTests(DatabaseProvider.PostgreSQL);
