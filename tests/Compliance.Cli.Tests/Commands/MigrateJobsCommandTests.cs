using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Compliance.Testing;
using Hangfire.PostgreSql;
using Npgsql;

namespace Compliance.Cli.Tests.Commands;

/// <summary>`compliance migrate --store jobs` on PostgreSQL: Hangfire.PostgreSql's schema, installed and checksummed.</summary>
public sealed class MigrateJobsCommandTests_Postgres : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private Dictionary<string, string?> _settings = [];

    public async Task InitializeAsync() => _settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    private static int Target => JobStoreMigrator.TargetVersion;

    private string ComplianceDatabase => _settings["Storage:ComplianceConnectionString"]!;

    [Fact]
    public async Task MigrateJobs_EmptyDatabase_InstallsTheSchemaAndRecordsEveryScriptWithItsChecksum()
    {
        var (exitCode, output, error) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(0, error);
        output.Trim().ShouldBe($"jobs: migrated from version 0 to {Target} ({ShippedScripts().Count} applied) in schema hangfire");
        (await ScalarAsync(ComplianceDatabase, "SELECT max(version) FROM hangfire.\"schema\"")).ShouldBe(Target);
        (await HistoryAsync(ComplianceDatabase, "hangfire")).Select(r => (r.Version, r.Checksum)).ShouldBe(ShippedScripts());
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).ShouldBe(0L, "the compliance store was not asked for");
    }

    [Fact]
    public async Task MigrateJobs_SecondRun_ReportsUpToDateAndChangesNothing()
    {
        await MigrateAsync("--store", "jobs");
        var history = await HistoryAsync(ComplianceDatabase, "hangfire");
        var objects = await SchemaObjectsAsync(ComplianceDatabase, "hangfire");

        var (exitCode, output, _) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(0);
        output.Trim().ShouldBe($"jobs: up to date at version {Target} in schema hangfire");
        (await HistoryAsync(ComplianceDatabase, "hangfire")).ShouldBe(history);
        (await SchemaObjectsAsync(ComplianceDatabase, "hangfire")).ShouldBe(objects);
    }

    [Fact]
    public async Task Migrate_NoStoreGiven_AlsoInstallsTheJobSchemaAndAuditsIt()
    {
        var (exitCode, output, _) = await MigrateAsync();

        exitCode.ShouldBe(0);
        output.ShouldContain("compliance: migrated from version 0 to");
        output.ShouldContain("vault: migrated from version 0 to");
        output.ShouldContain($"jobs: migrated from version 0 to {Target}");
        (await ScalarAsync(ComplianceDatabase,
            $"SELECT count(*) FROM audit_events WHERE event_id = {AuditEventTypes.SchemaMigrated.Id} AND details LIKE '%\"store\":\"jobs\"%' AND details LIKE '%\"to\":{Target}%'"))
            .ShouldBe(1L);
    }

    [Fact]
    public async Task MigrateJobsStatus_BeforeAndAfterMigrating_ListsPendingScriptsAndExits1ThenReportsCurrent()
    {
        var (before, beforeOutput, _) = await MigrateAsync("--store", "jobs", "--status");
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname = 'hangfire'")).ShouldBe(0L, "--status changes nothing");
        await MigrateAsync("--store", "jobs");

        var (after, afterOutput, _) = await MigrateAsync("--store", "jobs", "--status");

        before.ShouldBe(1);
        beforeOutput.Trim().ShouldBe($"jobs: version 0 of {Target} in schema hangfire; pending [{string.Join(", ", ShippedScripts().Select(s => s.Version))}]");
        after.ShouldBe(0);
        afterOutput.Trim().ShouldBe($"jobs: version {Target} of {Target} in schema hangfire; pending []");
    }

    [Fact]
    public async Task MigrateJobs_OutdatedSchema_AppliesTheMissingScriptOnly()
    {
        await MigrateAsync("--store", "jobs");
        await ExecuteAsync(ComplianceDatabase,
            $"UPDATE hangfire.\"schema\" SET version = {Target - 1}; DELETE FROM hangfire.compliance_schema_history WHERE version = {Target}");

        var (exitCode, output, _) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(0);
        output.Trim().ShouldBe($"jobs: migrated from version {Target - 1} to {Target} (1 applied) in schema hangfire");
        (await HistoryAsync(ComplianceDatabase, "hangfire")).Select(r => (r.Version, r.Checksum)).ShouldBe(ShippedScripts());
    }

    [Fact]
    public async Task MigrateJobs_TopHistoryRowLost_RecordsItAgainWithoutReinstalling()
    {
        await MigrateAsync("--store", "jobs");
        await ExecuteAsync(ComplianceDatabase, $"DELETE FROM hangfire.compliance_schema_history WHERE version = {Target}");
        var objects = await SchemaObjectsAsync(ComplianceDatabase, "hangfire");

        var (exitCode, output, _) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(0);
        output.Trim().ShouldBe($"jobs: up to date at version {Target} in schema hangfire; recorded [{Target}] in its history");
        (await HistoryAsync(ComplianceDatabase, "hangfire")).Select(r => (r.Version, r.Checksum)).ShouldBe(ShippedScripts());
        (await SchemaObjectsAsync(ComplianceDatabase, "hangfire")).ShouldBe(objects);
    }

    [Fact]
    public async Task MigrateJobs_RecordedChecksumAltered_RefusesNamingTheVersionAndStatusShowsIt()
    {
        await MigrateAsync("--store", "jobs");
        await ExecuteAsync(ComplianceDatabase, $"UPDATE hangfire.compliance_schema_history SET checksum = repeat('0', 64) WHERE version = {Target}");

        var (exitCode, _, error) = await MigrateAsync("--store", "jobs");
        var (statusCode, status, _) = await MigrateAsync("--store", "jobs", "--status");

        exitCode.ShouldBe(1);
        error.ShouldContain($"records version(s) {Target} with other scripts than this build's");
        statusCode.ShouldBe(1);
        status.ShouldContain($"altered [{Target}]");
        (await ScalarAsync(ComplianceDatabase, $"SELECT checksum FROM hangfire.compliance_schema_history WHERE version = {Target}")).ShouldBe(new string('0', 64));
    }

    [Fact]
    public async Task MigrateJobs_NewerSchemaThanThisBuild_RefusesWithExit1()
    {
        await MigrateAsync("--store", "jobs");
        await ExecuteAsync(ComplianceDatabase, $"UPDATE hangfire.\"schema\" SET version = {Target + 1}");

        var (exitCode, _, error) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(1);
        error.ShouldContain($"at version {Target + 1}, newer than this build's {Target}");
    }

    [Fact]
    public async Task MigrateJobs_OwnDatabaseAndSchema_InstallsThereAndLeavesTheComplianceDatabaseAlone()
    {
        var jobs = await _empty.CreateAsync(DatabaseProvider.PostgreSQL, Store.Compliance);
        _settings["Jobs:ConnectionString"] = jobs.ConnectionString;
        _settings["Jobs:Schema"] = "compliance_jobs";

        var (exitCode, output, _) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(0);
        output.ShouldContain("in schema compliance_jobs");
        (await HistoryAsync(jobs.ConnectionString, "compliance_jobs")).Count.ShouldBe(ShippedScripts().Count);
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('hangfire', 'compliance_jobs')")).ShouldBe(0L);
    }

    [Theory]
    [InlineData("x\"; drop")]
    [InlineData("Hangfire")]
    [InlineData("public; DROP SCHEMA public CASCADE")]
    public async Task MigrateJobs_HostileSchemaName_RefusedBeforeAnySql(string schema)
    {
        _settings["Jobs:Schema"] = schema;

        var (exitCode, output, error) = await MigrateAsync("--store", "jobs");

        exitCode.ShouldBe(78);
        error.Trim().ShouldBe("Jobs:Schema must be a lower-case PostgreSQL identifier (letters, digits, underscore).");
        output.ShouldBeEmpty();
        (await ScalarAsync(ComplianceDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')")).ShouldBe(0L);
    }

    private Task<(int ExitCode, string Output, string Error)> MigrateAsync(params string[] args) =>
        CliRunner.RunAsync(["migrate", .. args, .. CliRunner.Settings(_settings)]);

    /// <summary>Version and SHA-256 of each install script in Hangfire.PostgreSql, computed here from the assembly.</summary>
    private static List<(int Version, string Checksum)> ShippedScripts()
    {
        const string Prefix = "Hangfire.PostgreSql.Scripts.Install.v";
        var assembly = typeof(PostgreSqlStorage).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!, Encoding.UTF8);
                return (int.Parse(n[Prefix.Length..^".sql".Length], CultureInfo.InvariantCulture),
                    Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reader.ReadToEnd()))));
            })
            .OrderBy(s => s.Item1)];
    }

    private static async Task<List<(int Version, string Checksum, DateTime AppliedAt)>> HistoryAsync(string connectionString, string schema)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT version, checksum, applied_at FROM \"{schema}\".compliance_schema_history ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string, DateTime)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetDateTime(2)));
        }

        return rows;
    }

    /// <summary>Every table, index, sequence and column of the schema, to show that a second run altered nothing.</summary>
    private static async Task<List<string>> SchemaObjectsAsync(string connectionString, string schema)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT c.relkind::text || ' ' || c.relname || coalesce(' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod), '')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = @schema
            ORDER BY 1
            """, connection);
        command.Parameters.AddWithValue("schema", schema);
        await using var reader = await command.ExecuteReaderAsync();
        var objects = new List<string>();
        while (await reader.ReadAsync())
        {
            objects.Add(reader.GetString(0));
        }

        return objects;
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

/// <summary>`compliance migrate --store jobs` on the embedded default, whose jobs are kept in memory.</summary>
public sealed class MigrateJobsCommandTests_Sqlite : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-cli-jobs-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task MigrateJobs_EmbeddedDefault_SaysJobsAreInMemoryInOneLineAndExits0()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync(["migrate", "--store", "jobs", "--set", "Storage:DataDirectory=" + _directory]);

        exitCode.ShouldBe(0);
        output.ShouldBe("jobs: kept in memory on the embedded default (Storage:Provider=Sqlite); no schema to migrate" + Environment.NewLine);
        error.ShouldBeEmpty();
        Directory.GetFiles(_directory).ShouldBeEmpty("the compliance and vault stores were not asked for");
    }
}
