using System.Diagnostics;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>compliance policies validate</c> without <c>--directory</c>, run as the README shows it: the real program, from
/// a working directory. It reads <c>./policies</c> when there is one, else the copy next to the program, and says which.
/// </summary>
public sealed class PoliciesCommandTests : IDisposable
{
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("compliance-cli-cwd-").FullName;

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);

    [Fact]
    public async Task Validate_FromTheRepositoryRoot_ReadsItsPoliciesFolder()
    {
        var root = RepositoryRoot();

        var (exitCode, output, _) = await RunProgramAsync(root, "policies", "validate");

        exitCode.ShouldBe(0);
        output.ShouldContain($"Reading {Path.Combine(root, "policies")} (the policies folder in the current directory).");
    }

    [Fact]
    public async Task Validate_NoStoreYet_SaysReferencesWereNotCheckedInOneLine_AndCreatesNoDatabase()
    {
        var root = RepositoryRoot();
        var data = Path.Combine(_workingDirectory, "data");

        var (exitCode, output, _) = await RunProgramAsync(root, "policies", "validate", "--set", $"Storage:DataDirectory={data}");

        exitCode.ShouldBe(0);
        output.Split('\n').Where(line => line.StartsWith("References:", StringComparison.Ordinal)).ShouldHaveSingleItem()
            .Trim().ShouldBe("References: not checked against a store (there is no compliance database yet).");
        File.Exists(Path.Combine(data, "compliance.db")).ShouldBeFalse("a check creates no database");
    }

    [Fact]
    public async Task Validate_PoliciesFolderInCurrentDirectory_ReadsItNotTheCopyNextToTheProgram()
    {
        CopyShippedPolicies(Path.Combine(_workingDirectory, "policies"));
        var retention = Path.Combine(_workingDirectory, "policies", "retention.yaml");
        var line = File.ReadAllLines(retention).Length + 1;
        await File.AppendAllTextAsync(retention, "shemaVersion: 1\n");

        var (exitCode, output, error) = await RunProgramAsync(_workingDirectory, "policies", "validate");

        exitCode.ShouldBe(1, "the broken copy in the current directory is the one read");
        output.ShouldContain($"Reading {Path.Combine(_workingDirectory, "policies")} (the policies folder in the current directory).");
        error.ShouldContain($"retention.yaml:{line}:");
    }

    [Fact]
    public async Task Validate_NoPoliciesFolderInCurrentDirectory_ReadsTheOneNextToTheProgram()
    {
        var (exitCode, output, _) = await RunProgramAsync(_workingDirectory, "policies", "validate");

        exitCode.ShouldBe(0);
        output.ShouldContain($"Reading {Path.Combine(AppContext.BaseDirectory, "policies")} (the policies folder next to this program).");
    }

    [Fact]
    public async Task Validate_DirectoryOption_WinsOverTheCurrentDirectory()
    {
        Directory.CreateDirectory(Path.Combine(_workingDirectory, "policies"));
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");

        var (exitCode, output, _) = await RunProgramAsync(_workingDirectory, "policies", "validate", "--directory", shipped);

        exitCode.ShouldBe(0);
        output.ShouldContain($"Reading {shipped} (--directory).");
    }

    /// <summary>Runs <c>dotnet compliance.dll</c>, the assembly the README's <c>dotnet run</c> and <c>dotnet publish</c> produce.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunProgramAsync(string workingDirectory, params string[] args)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "compliance.dll");
        File.Exists(program).ShouldBeTrue("the CLI's assembly is named compliance");
        var start = new ProcessStartInfo("dotnet", [program, .. args])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static void CopyShippedPolicies(string target)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Compliance.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Compliance.sln not found above the test folder.");
    }
}
