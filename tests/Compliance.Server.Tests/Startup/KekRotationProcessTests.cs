using System.Text.Json;
using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Data.Sqlite;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// <c>compliance keys rotate-kek</c> as an operator runs it: killed half-way (kill -9), run again, and the server
/// then starts with the new key-encryption key alone and serves the same keys.
/// </summary>
public abstract class KekRotationProcessTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-kek-rotation-").FullName;
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync() => _settings = await MigratedStores.CreateAsync(_empty, provider, _dataDirectory);

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task RotateKek_KilledHalfWayThenRunAgain_EndsWithEveryKeyUnderTheNewKekAndTheServerServing()
    {
        var oldKek = Path.Combine(_dataDirectory, "old.key");
        var newKek = Path.Combine(_dataDirectory, "new.key");
        string jwksBefore;
        await using (var server = ServerProcess.Start(With(("Keys:LocalKekPath", oldKek))))
        {
            await server.WaitUntilReadyAsync();
            jwksBefore = await KidsAsync(server);
        }

        var rotating = With(("Keys:LocalKekPath", newKek), ("Keys:Previous:Kek", "local"), ("Keys:Previous:LocalKekPath", oldKek));
        var init = await CliProcess.RunAsync(rotating, "keys", "init");
        init.ExitCode.ShouldBe(0, init.Error);
        var newKekId = init.Output.Split("key-encryption key ")[1].Split(' ')[0];

        // Half-way: at two keys a second, the first key is re-wrapped about half a second before the second.
        using (var interrupted = CliProcess.Start(rotating, "keys", "rotate-kek", "--keys-per-second", "2"))
        {
            (await interrupted.WaitForOutputAsync("Re-wrapped", TimeSpan.FromSeconds(60))).ShouldBeTrue(interrupted.StandardError);
            interrupted.KillHard();
        }

        var halfway = await CensusAsync(rotating);
        halfway.ShouldContain($"stored key(s) wrapped by {newKekId}");
        halfway.Split('\n').Count(line => line.Contains("stored key(s) wrapped by", StringComparison.Ordinal)).ShouldBe(2, "some keys under each KEK");

        var resumed = await CliProcess.RunAsync(rotating, "keys", "rotate-kek");
        resumed.ExitCode.ShouldBe(0, resumed.Error);
        resumed.Output.ShouldContain($"under {newKekId}");
        var after = await CensusAsync(rotating);
        after.Split('\n').Count(line => line.Contains("stored key(s) wrapped by", StringComparison.Ordinal)).ShouldBe(1);
        after.ShouldContain($"stored key(s) wrapped by {newKekId}");

        // The old key file is no longer needed: the server starts without it and serves the same signing keys.
        File.Delete(oldKek);
        await using var restarted = ServerProcess.Start(With(("Keys:LocalKekPath", newKek), ("Keys:CreateKekIfMissing", "false")));
        await restarted.WaitUntilReadyAsync();
        (await KidsAsync(restarted)).ShouldBe(jwksBefore);
    }

    private static async Task<string> KidsAsync(ServerProcess server)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var jwks = JsonDocument.Parse(await client.GetStringAsync("/.well-known/jwks.json"));
        return string.Join(",", jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()).Order(StringComparer.Ordinal));
    }

    private static async Task<string> CensusAsync(Dictionary<string, string?> settings)
    {
        var (exitCode, output, error) = await CliProcess.RunAsync(settings, "keys", "list");
        exitCode.ShouldBe(0, error);
        return output;
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
}

public sealed class KekRotationProcessTests_Sqlite() : KekRotationProcessTests(DatabaseProvider.Sqlite);

public sealed class KekRotationProcessTests_Postgres() : KekRotationProcessTests(DatabaseProvider.PostgreSQL);
