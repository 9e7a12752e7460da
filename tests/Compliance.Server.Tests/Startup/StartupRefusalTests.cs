using Compliance.Testing;

namespace Compliance.Server.Tests.Startup;

/// <summary>A wrong setting or a broken policy file stops the real process with one line naming what is wrong.</summary>
public sealed class StartupRefusalTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-refusal-").FullName;

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    [Theory]
    [InlineData("Storage:Provider", "Oracle", "Storage:Provider: unknown provider 'Oracle'")]
    [InlineData("Storage:Provider", "3", "Storage:Provider: unknown provider '3'")]
    [InlineData("Hosting:ShutdownTimeoutSeconds", "0", "Hosting:ShutdownTimeoutSeconds: 0 is out of range")]
    [InlineData("Hosting:ShutdownTimeoutSeconds", "soon", "'Hosting:ShutdownTimeoutSeconds'")]
    [InlineData("Hosting:MaxRequestBodyBytes", "10", "Hosting:MaxRequestBodyBytes: 10 is out of range")]
    [InlineData("Hosting:TrustedProxies:0", "not-an-ip", "Hosting:TrustedProxies:0: 'not-an-ip' is not an IP address")]
    [InlineData("Oidc:Issuer", "http://public.example", "Oidc:Issuer: must be an absolute https URL")]
    [InlineData("Oidc:AuthorizationCodeLifetimeSeconds", "3600", "Oidc:AuthorizationCodeLifetimeSeconds: 3600 is out of range")]
    [InlineData("Keys:SigningKeyLifetimeDays", "1", "Keys:SigningKeyLifetimeDays")]
    [InlineData("Storage:ComplianceConnectionString", "Data Source=", "Storage:ComplianceConnectionString: a SQLite connection string must name a database file")]
    [InlineData("Jobs:Schema", "x\"; drop", "Jobs:Schema must be a lower-case PostgreSQL identifier")]
    [InlineData("Jobs:LockTimeoutSeconds", "1", "Jobs:LockTimeoutSeconds must be between 5 and 3600")]
    public async Task Start_WrongSetting_StopsNamingTheSettingAndReason(string setting, string value, string expected)
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            [setting] = value,
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain(expected);
        ShouldHaveNoStackTrace(server);
    }

    [Fact]
    public async Task Start_DataDirectoryNotWritable_StopsNamingTheFolder()
    {
        // Root may write anywhere, so the folder is made impossible rather than forbidden: its parent is a file.
        var file = Path.Combine(_dataDirectory, "a-file");
        await File.WriteAllTextAsync(file, "");
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(file, "data") });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain("Storage:DataDirectory: the folder");
        ShouldHaveNoStackTrace(server);
    }

    [Fact]
    public async Task Start_DataDirectoryOpenToOtherUsers_StopsNamingTheFolderAndTheFix()
    {
        File.SetUnixFileMode(_dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = _dataDirectory });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain($"Storage:DataDirectory: the folder '{_dataDirectory}' is open to other users (mode 755)");
        server.StandardError.ShouldContain("chmod 700");
        ShouldHaveNoStackTrace(server);
        Directory.GetFiles(_dataDirectory).ShouldBeEmpty("a refused start must not create the stores");
    }

    [Fact]
    public async Task Start_PostgresPasswordInBadConnectionString_IsNeverEchoed()
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "PostgreSQL",
            ["Storage:ComplianceConnectionString"] = "Host=127.0.0.1;Database=c;Password=Hunter2Secret;Bogus Keyword=1",
            ["Storage:VaultConnectionString"] = "Host=127.0.0.1;Database=v;Password=Hunter2Secret",
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain("Storage:ComplianceConnectionString: not a valid PostgreSQL connection string");
        (server.StandardError + server.StandardOutput).ShouldNotContain("Hunter2Secret");
    }

    [Fact]
    public async Task Start_SameDatabaseForVaultAndCompliance_Refuses()
    {
        var connection = PostgresServer.ConnectionStringFor("postgres");
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "PostgreSQL",
            ["Storage:ComplianceConnectionString"] = connection,
            ["Storage:VaultConnectionString"] = connection,
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain("Storage:VaultConnectionString: the vault must be a separate database");
    }

    [Fact]
    public async Task Start_KeyFileReadableByOthers_StopsNamingTheSetting()
    {
        var kek = Path.Combine(_dataDirectory, "kek.key");
        await using (var first = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = _dataDirectory }))
        {
            await first.WaitUntilReadyAsync();
        }

        File.SetUnixFileMode(kek, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        await using var server = ServerProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = _dataDirectory });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain("Keys:LocalKekPath");
        ShouldHaveNoStackTrace(server);
    }

    [Fact]
    public async Task Start_BrokenPolicyFile_StopsNamingFileAndLine()
    {
        var policies = CopyShippedPolicies();
        var purposes = Path.Combine(policies, "purposes.yaml");
        var brokenLine = File.ReadAllLines(purposes).Length + 1;
        await File.AppendAllTextAsync(purposes, "retentionn: typo\n");
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            ["Policies:Directory"] = policies,
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldContain($"purposes.yaml:{brokenLine}:");
        server.StandardError.ShouldContain("retentionn");
        ShouldHaveNoStackTrace(server);
        Directory.GetFiles(_dataDirectory, "*.db").ShouldBeEmpty("a refused start must not create the stores");
    }

    [Fact]
    public async Task Start_PolicyFileWithYamlSyntaxError_StopsNamingFileAndLine()
    {
        var policies = CopyShippedPolicies();
        var retention = Path.Combine(policies, "retention.yaml");
        var lines = File.ReadAllLines(retention).ToList();
        lines.Insert(3, "  - id: [unclosed");
        await File.WriteAllLinesAsync(retention, lines);
        await using var server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            ["Policies:Directory"] = policies,
        });

        var exitCode = await server.WaitForExitAsync();

        exitCode.ShouldBe(78);
        server.StandardError.ShouldMatch(@"retention\.yaml:\d+:\d+:");
        ShouldHaveNoStackTrace(server);
    }

    private string CopyShippedPolicies()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "policies");
        var target = Path.Combine(_dataDirectory, "policies");
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    private static void ShouldHaveNoStackTrace(ServerProcess server)
    {
        (server.StandardError + server.StandardOutput).ShouldNotContain("   at ");
        server.StandardError.Trim().Split('\n').Length.ShouldBe(1);
    }
}
