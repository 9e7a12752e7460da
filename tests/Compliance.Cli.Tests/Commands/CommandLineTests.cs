namespace Compliance.Cli.Tests.Commands;

public class CommandLineTests
{
    [Fact]
    public async Task PoliciesValidate_ShippedPolicies_ReportsValidWithFingerprint()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync("policies", "validate");

        exitCode.ShouldBe(0);
        output.ShouldMatch("valid\\. \\d+ purposes, \\d+ retention rules, \\d+ register entries; fingerprint [0-9a-f]{64}");
    }

    [Fact]
    public async Task PoliciesValidate_BrokenFile_PrintsFileLineAndReasonAndExits1()
    {
        var directory = Directory.CreateTempSubdirectory("compliance-cli-policies-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "policies"), "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(directory, Path.GetRelativePath(Path.Combine(AppContext.BaseDirectory, "policies"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var retention = Path.Combine(directory, "retention.yaml");
            var line = File.ReadAllLines(retention).Length + 1;
            await File.AppendAllTextAsync(retention, "shemaVersion: 1\n");

            var (exitCode, _, error) = await CliRunner.RunAsync("policies", "validate", "--directory", directory);

            exitCode.ShouldBe(1);
            error.ShouldContain($"retention.yaml:{line}:");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Storage:Provider=Cassandra", "Storage:Provider: unknown provider 'Cassandra'")]
    [InlineData("Storage:Provider=PostgreSQL", "Storage:ComplianceConnectionString: required when Storage:Provider is PostgreSQL.")]
    [InlineData("Storage:MigrateOnStart=maybe", "'Storage:MigrateOnStart'")]
    public async Task Migrate_WrongSetting_NamesItAndExits78(string setting, string expected)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("migrate", "--set", setting);

        exitCode.ShouldBe(78);
        error.ShouldContain(expected);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("migrate", "--store", "everything")]
    [InlineData("migrate", "--set", "no-equals-sign")]
    public async Task BadUsage_ExitsNonZeroWithAMessage(params string[] args)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(args);

        exitCode.ShouldNotBe(0);
        error.ShouldNotBeNullOrWhiteSpace();
    }
}
