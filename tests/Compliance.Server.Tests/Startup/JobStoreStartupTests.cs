using System.Text.Json;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Compliance.Testing;
using Npgsql;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// The real process on PostgreSQL with <c>Storage:MigrateOnStart=false</c> (the production default): it refuses to start
/// on a missing, outdated or altered job schema, naming <c>compliance migrate --store jobs</c>, and starts once that ran.
/// </summary>
public sealed class JobStoreStartupTests : IAsyncLifetime
{
    private const string Command = "compliance migrate --store jobs";
    private readonly EmptyStores _empty = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-jobstore-").FullName;
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync() =>
        _settings = await MigratedStores.CreateAsync(_empty, DatabaseProvider.PostgreSQL, _dataDirectory, jobStore: false);

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static int Target => JobStoreMigrator.TargetVersion;

    private string ComplianceDatabase => _settings["Storage:ComplianceConnectionString"]!;

    [Fact]
    public async Task Start_JobSchemaMissing_RefusesInOneLineNamingTheCommand()
    {
        var (exitCode, error) = await StartRefusedAsync();

        exitCode.ShouldBe(78);
        error.ShouldContain("The job store schema 'hangfire' is not installed.");
        error.ShouldContain(Command);
    }

    [Theory]
    [InlineData("its history lost the top version", $"DELETE FROM hangfire.compliance_schema_history WHERE version = (SELECT max(version) FROM hangfire.compliance_schema_history)")]
    [InlineData("Hangfire's own version lowered", "UPDATE hangfire.\"schema\" SET version = version - 1")]
    public async Task Start_JobSchemaOutdated_RefusesInOneLineNamingTheCommand(string situation, string tamper)
    {
        await MigrateJobStoreAsync();
        await ExecuteAsync(ComplianceDatabase, tamper);

        var (exitCode, error) = await StartRefusedAsync();

        exitCode.ShouldBe(78, situation);
        error.ShouldContain(Command, customMessage: situation);
        error.ShouldNotContain($"at version {Target} but this build needs version {Target}");
    }

    [Fact]
    public async Task Start_RecordedChecksumAltered_RefusesInOneLineNamingTheVersionAndTheCommand()
    {
        await MigrateJobStoreAsync();
        await ExecuteAsync(ComplianceDatabase, $"UPDATE hangfire.compliance_schema_history SET checksum = repeat('0', 64) WHERE version = {Target}");

        var (exitCode, error) = await StartRefusedAsync();

        exitCode.ShouldBe(78);
        error.ShouldContain($"records version(s) {Target} with other scripts than this build's Hangfire.PostgreSql");
        error.ShouldContain(Command);
    }

    [Fact]
    public async Task Start_AfterMigrateStoreJobs_StartsWithTheJobStoreReady()
    {
        (await StartRefusedAsync()).ExitCode.ShouldBe(78);

        await MigrateJobStoreAsync();
        await using var server = ServerProcess.Start(_settings);
        await server.WaitUntilReadyAsync();

        var checks = await ReadinessAsync(server);
        checks["job-store"].ShouldBe("Healthy");
        checks["job-server"].ShouldBe("Healthy");
    }

    [Fact]
    public async Task Start_MigrateOnStart_InstallsTheJobSchemaItself()
    {
        _settings["Storage:MigrateOnStart"] = "true";

        await using var server = ServerProcess.Start(_settings);
        await server.WaitUntilReadyAsync();

        (await ReadinessAsync(server))["job-store"].ShouldBe("Healthy");
        (await ScalarAsync(ComplianceDatabase, "SELECT max(version) FROM hangfire.\"schema\"")).ShouldBe(Target);
        (await ScalarAsync(ComplianceDatabase, $"SELECT count(*) FROM hangfire.compliance_schema_history WHERE version = {Target}")).ShouldBe(1L);
    }

    [Fact]
    public async Task Start_JobStoreInItsOwnDatabase_UsesItAndLeavesTheComplianceDatabaseWithoutJobs()
    {
        var jobs = await _empty.CreateAsync(DatabaseProvider.PostgreSQL, Store.Compliance);
        _settings["Jobs:ConnectionString"] = jobs.ConnectionString;

        var migrate = await CliProcess.RunAsync(_settings, "migrate", "--store", "jobs");
        migrate.ExitCode.ShouldBe(0, migrate.Error);
        await using var server = ServerProcess.Start(_settings);
        await server.WaitUntilReadyAsync();

        (await ReadinessAsync(server))["job-server"].ShouldBe("Healthy");
        (await ScalarAsync(jobs.ConnectionString, "SELECT count(*) FROM hangfire.server")).ShouldBe(1L, "this node's job server heartbeats in the job database");
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname = 'hangfire'")).ShouldBe(0L);
    }

    [Theory]
    [InlineData("x\"; drop")]
    [InlineData("hangfire\"; DROP TABLE audit_events; --")]
    public async Task Start_HostileJobSchema_RefusedByOptionValidationBeforeAnyStoreIsTouched(string schema)
    {
        _settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        _settings["Storage:MigrateOnStart"] = "true";
        _settings["Jobs:Schema"] = schema;

        var (exitCode, error) = await StartRefusedAsync();

        exitCode.ShouldBe(78);
        error.ShouldContain("Jobs:Schema must be a lower-case PostgreSQL identifier");
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"))
            .ShouldBe(0L, "a refused start migrates nothing");
    }

    private async Task MigrateJobStoreAsync()
    {
        var migrate = await CliProcess.RunAsync(_settings, "migrate", "--store", "jobs");
        migrate.ExitCode.ShouldBe(0, migrate.Error);
        migrate.Output.ShouldContain($"jobs: migrated from version 0 to {Target}");
    }

    /// <summary>Starts the server, expects it to stop by itself, and returns its exit code and its one line of error.</summary>
    private async Task<(int ExitCode, string Error)> StartRefusedAsync()
    {
        await using var server = ServerProcess.Start(_settings);
        var exitCode = await server.WaitForExitAsync();
        (server.StandardError + server.StandardOutput).ShouldNotContain("   at ", customMessage: "no stack trace");
        server.StandardError.Trim().Split('\n').Length.ShouldBe(1, server.StandardError);
        return (exitCode, server.StandardError);
    }

    private static async Task<Dictionary<string, string>> ReadinessAsync(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var ready = JsonDocument.Parse(await http.GetStringAsync("/health/ready"));
        return ready.RootElement.GetProperty("checks").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
