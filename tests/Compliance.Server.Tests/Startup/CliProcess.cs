using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Compliance.Server.Tests.Startup;

/// <summary>The <c>compliance</c> command as a real process, given settings as environment variables as an operator would.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(Process process) => _process = process;

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }

    public static CliProcess Start(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [CliAssembly, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(CliAssembly)!,
        };
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = new Process { StartInfo = start };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (cli._stdout) { cli._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (cli._stderr) { cli._stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        using var cli = Start(settings, args);
        var exitCode = await cli.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (exitCode, cli.StandardOutput, cli.StandardError);
    }

    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (StandardOutput.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(20);
        }

        return StandardOutput.Contains(text, StringComparison.Ordinal);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no cleanup, no flush, as a crash or an operator's kill -9.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static string CliAssembly
    {
        get
        {
            var configuration = typeof(CliProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
            var path = Path.Combine(root, "src", "Compliance.Cli", "bin", configuration, "net10.0", "compliance.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the command first.", path);
        }
    }
}
