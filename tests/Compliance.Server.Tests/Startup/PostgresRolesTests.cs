using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Testing;
using Npgsql;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// The README's PostgreSQL section, as written: its SQL block creates the owner and runtime roles of a fresh database
/// pair and the job store's schema, <c>compliance migrate</c> runs as the owners, and <c>keys init</c> and the real
/// server (with its job server) run as the runtime roles.
/// </summary>
public sealed partial class PostgresRolesTests : IAsyncLifetime
{
    private const string Marker = "<!-- postgres-roles -->";
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-roles-").FullName;
    private readonly Dictionary<string, string> _passwords = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        // Each name of the README gets this run's suffix (roles are server-wide), and each password a fresh value.
        var script = IdentifierPattern().Replace(ReadmeRolesBlock(), match => Name(match.Value));
        script = PasswordPattern().Replace(script, match =>
        {
            var password = "pw-" + Guid.NewGuid().ToString("N");
            _passwords[match.Groups["role"].Value] = password;
            return $"CREATE ROLE {match.Groups["role"].Value}{match.Groups["spacing"].Value}LOGIN PASSWORD '{password}'";
        });
        await RunPsqlScriptAsync(script);
    }

    public async Task DisposeAsync()
    {
        await PostgresServer.DropDatabaseAsync(Name("compliance"));
        await PostgresServer.DropDatabaseAsync(Name("compliance_vault"));
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        foreach (var role in _passwords.Keys)
        {
            await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{role}\"", connection);
            await drop.ExecuteNonQueryAsync();
        }

        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task ReadmeRoles_MigrateAsOwnersRunAsRuntimeRoles_ServesDiscoveryAndSignUp()
    {
        var owners = Settings("compliance_owner", "vault_owner");
        var runtime = Settings("compliance_app", "vault_app");

        var migrate = await RunCliAsync(owners, "migrate");
        migrate.ExitCode.ShouldBe(0, migrate.Error);
        var keys = await RunCliAsync(runtime, "keys", "init");
        keys.ExitCode.ShouldBe(0, keys.Error);

        runtime["Keys:CreateKekIfMissing"] = null;
        await using var server = ServerProcess.Start(runtime);
        await server.WaitUntilReadyAsync();

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        (await http.GetAsync("/.well-known/openid-configuration")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var patient = new Oidc.PatientBrowser(handler, server.BaseAddress);
        (await patient.SignUpAsync("roles-" + _suffix[..8], "correct horse battery staple 42")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        var output = server.StandardOutput + server.StandardError + migrate.Output + migrate.Error + keys.Output + keys.Error;
        foreach (var password in _passwords.Values)
        {
            output.ShouldNotContain(password);
        }
    }

    [Fact]
    public async Task ReadmeRoles_RuntimeRoles_CannotCreateTablesNorReachTheOtherStore()
    {
        (await RunCliAsync(Settings("compliance_owner", "vault_owner"), "migrate")).ExitCode.ShouldBe(0);

        (await RefusalAsync("compliance_app", "compliance", "CREATE TABLE intruder (id int)")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("vault_app", "compliance_vault", "CREATE TABLE intruder (id int)")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("compliance_app", "compliance", "DROP TABLE schema_history")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("vault_app", "compliance", "SELECT 1")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege, "the vault's role cannot connect to the compliance database");
        (await RefusalAsync("compliance_app", "compliance_vault", "SELECT 1")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege, "the compliance role cannot connect to the vault");
        (await RefusalAsync("compliance_app", "compliance", "SELECT count(*) FROM schema_history")).ShouldBeNull("the runtime role reads the tables the owner's migrations created");
    }

    [Fact]
    public async Task ReadmeRoles_JobServerUnderTheRuntimeRole_IsReadyAndRunsARecurringJob()
    {
        var migrate = await RunCliAsync(Settings("compliance_owner", "vault_owner"), "migrate");
        migrate.ExitCode.ShouldBe(0, migrate.Error);
        migrate.Output.ShouldContain("jobs: migrated from version 0 to");
        var runtime = Settings("compliance_app", "vault_app");
        runtime["Jobs:ReconcileCron"] = "*/1 * * * * *"; // every second, so that the test sees a job run

        await using var server = ServerProcess.Start(runtime);
        await server.WaitUntilReadyAsync();

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var ready = JsonDocument.Parse(await http.GetStringAsync("/health/ready"));
        ready.RootElement.GetProperty("checks").GetProperty("job-store").GetString().ShouldBe("Healthy");
        ready.RootElement.GetProperty("checks").GetProperty("job-server").GetString().ShouldBe("Healthy");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await AdminScalarAsync("compliance", "SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'") is 0L && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        (await AdminScalarAsync("compliance", "SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'")).ShouldNotBe(0L, server.StandardOutput);
        (server.StandardOutput + server.StandardError).ShouldNotContain("permission denied");
    }

    [Fact]
    public async Task ReadmeRoles_RuntimeRole_UsesTheJobSchemaRowsButCannotChangeItsShape()
    {
        (await RunCliAsync(Settings("compliance_owner", "vault_owner"), "migrate")).ExitCode.ShouldBe(0);

        (await RefusalAsync("compliance_app", "compliance", "CREATE TABLE hangfire.intruder (id int)")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("compliance_app", "compliance", "ALTER TABLE hangfire.job ADD COLUMN intruder int")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("compliance_app", "compliance", "DROP TABLE hangfire.lock")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("compliance_app", "compliance", "DROP SCHEMA hangfire CASCADE")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await RefusalAsync("compliance_app", "compliance", "SELECT setval('hangfire.job_id_seq', 1)")).ShouldBe(PostgresErrorCodes.InsufficientPrivilege, "no sequence rights beyond nextval");
        (await RefusalAsync("compliance_app", "compliance", "SELECT nextval('hangfire.job_id_seq')")).ShouldBeNull("inserting a job draws its id");
        (await RefusalAsync("compliance_app", "compliance", "DELETE FROM hangfire.lock WHERE resource = 'none'")).ShouldBeNull("Hangfire writes rows of its tables");
        (await RefusalAsync("compliance_app", "compliance", "SELECT count(*) FROM hangfire.compliance_schema_history")).ShouldBeNull("a node checks the job schema's history");
    }

    [Fact]
    public async Task ReadmeRoles_RuntimeRoleMigratingTheJobStore_IsRefusedInOneLineAndInstallsNothing()
    {
        var (exitCode, _, error) = await RunCliAsync(Settings("compliance_app", "vault_app"), "migrate", "--store", "jobs");

        exitCode.ShouldBe(1);
        error.ShouldContain("permission denied");
        error.ShouldContain("compliance migrate --store jobs");
        error.ShouldNotContain("   at ");
        error.Trim().Split('\n').Length.ShouldBe(1, error);
        (await AdminScalarAsync("compliance", "SELECT count(*) FROM pg_tables WHERE schemaname = 'hangfire'")).ShouldBe(0L);
    }

    [Theory]
    [InlineData("REVOKE USAGE ON SCHEMA hangfire FROM {0}", "permission denied for schema hangfire")]
    [InlineData("REVOKE ALL ON ALL TABLES IN SCHEMA hangfire FROM {0}", "permission denied for table")]
    public async Task ReadmeRoles_RuntimeRoleWithoutItsJobSchemaGrants_RefusesToStartNamingThem(string revoke, string expected)
    {
        (await RunCliAsync(Settings("compliance_owner", "vault_owner"), "migrate")).ExitCode.ShouldBe(0);
        await AdminExecuteAsync("compliance", string.Format(CultureInfo.InvariantCulture, revoke, Name("compliance_app")));

        await using var server = ServerProcess.Start(Settings("compliance_app", "vault_app"));
        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78, server.StandardError);
        server.StandardError.ShouldContain(expected);
        server.StandardError.ShouldContain("grant it USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its tables");
        (server.StandardError + server.StandardOutput).ShouldNotContain("   at ");
        server.StandardError.Trim().Split('\n').Length.ShouldBe(1, server.StandardError);
    }

    private Dictionary<string, string?> Settings(string complianceRole, string vaultRole) => new()
    {
        ["Storage:Provider"] = "PostgreSQL",
        ["Storage:ComplianceConnectionString"] = ConnectionString(complianceRole, "compliance"),
        ["Storage:VaultConnectionString"] = ConnectionString(vaultRole, "compliance_vault"),
        ["Storage:DataDirectory"] = _dataDirectory,
    };

    private string ConnectionString(string role, string database) =>
        new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString)
        {
            Username = Name(role),
            Password = _passwords[Name(role)],
            Database = Name(database),
            Pooling = false,
        }.ConnectionString;

    /// <summary>The SQLSTATE that <paramref name="sql"/> fails with as <paramref name="role"/>, or null if it succeeds.</summary>
    private async Task<string?> RefusalAsync(string role, string database, string sql)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString(role, database));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException refused)
        {
            return refused.SqlState;
        }
    }

    private string Name(string readmeName) => $"{readmeName}_{_suffix}";

    private async Task<object?> AdminScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.ConnectionStringFor(Name(database)));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private async Task AdminExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.ConnectionStringFor(Name(database)));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs the script as psql would: statement by statement, <c>\connect</c> switching the database.</summary>
    private static async Task RunPsqlScriptAsync(string script)
    {
        var database = "postgres";
        var statement = new System.Text.StringBuilder();
        foreach (var raw in script.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("\\connect ", StringComparison.Ordinal))
            {
                database = line["\\connect ".Length..].Trim();
                continue;
            }

            if (line.Length == 0 || line.StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            statement.Append(line).Append('\n');
            if (line.EndsWith(';'))
            {
                await using var connection = new NpgsqlConnection(PostgresServer.ConnectionStringFor(database));
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(statement.ToString(), connection);
                await command.ExecuteNonQueryAsync();
                statement.Clear();
            }
        }

        statement.ToString().Trim().ShouldBeEmpty("every statement of the README block ends with ';'");
    }

    private static string ReadmeRolesBlock()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var marker = readme.IndexOf(Marker, StringComparison.Ordinal);
        marker.ShouldBeGreaterThan(0, "README.md keeps the roles' SQL under " + Marker);
        var start = readme.IndexOf("```sql\n", marker, StringComparison.Ordinal) + "```sql\n".Length;
        var end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..end];
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(BuildFolder("Compliance.Cli"), "compliance.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string BuildFolder(string project)
    {
        var configuration = typeof(PostgresRolesTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        return Path.Combine(RepositoryRoot(), "src", project, "bin", configuration, "net10.0");
    }

    private static string RepositoryRoot() => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    [GeneratedRegex(@"\b(compliance_owner|compliance_app|compliance_vault|compliance|vault_owner|vault_app)\b")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"CREATE ROLE (?<role>\w+)(?<spacing>\s+)LOGIN PASSWORD '[^']*'")]
    private static partial Regex PasswordPattern();
}
