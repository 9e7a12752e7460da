using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// The real server as an operator runs it: <c>dotnet Compliance.Server.dll</c> in its own process, configured by
/// environment variables, on a free loopback port. Its output is captured for assertions.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts the server in Production with settings given as configuration keys (<c>Storage:Provider</c>), and
    /// <c>Keys:CreateKekIfMissing=true</c> unless a setting says otherwise (null removes it).
    /// </summary>
    /// <remarks>
    /// <paramref name="issuerHost"/> names the loopback host in the issuer: <c>localhost</c> for WebAuthn, which refuses
    /// an IP address as its RP id. The server listens on 127.0.0.1 either way.
    /// </remarks>
    public static ServerProcess Start(IReadOnlyDictionary<string, string?> settings, string? workingDirectory = null, string issuerHost = "127.0.0.1")
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [ServerAssembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(ServerAssembly)!,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Oidc__Issuer"] = $"http://{issuerHost}:{port}";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        // Production creates the first key-encryption key only on purpose; the tests' fresh stores say so. A setting
        // given as null is removed, so that a test can start without it.
        start.Environment["Keys__CreateKekIfMissing"] = "true";
        foreach (var (key, value) in settings)
        {
            var variable = key.Replace(":", "__", StringComparison.Ordinal);
            if (value is null)
            {
                start.Environment.Remove(variable);
            }
            else
            {
                start.Environment[variable] = value;
            }
        }

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (server._stdout) { server._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (server._stderr) { server._stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200; fails if the process exits or time runs out.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}.\n{StandardError}\n{StandardOutput}");
            }

            try
            {
                var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server did not become ready.\n{StandardError}\n{StandardOutput}");
    }

    /// <summary>Waits for a line of output containing <paramref name="text"/>.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (StandardOutput.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(5);
        }

        return StandardOutput.Contains(text, StringComparison.Ordinal);
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cancellation.Token);
        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut or an OOM kill.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: what an orchestrator sends to stop a node gracefully.</summary>
    public void Terminate() => _ = SendSignal(_process.Id, 15);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string ServerAssembly
    {
        get
        {
            // tests/Compliance.Server.Tests/bin/<Configuration>/net10.0 → src/Compliance.Server/bin/<Configuration>/net10.0
            var configuration = typeof(ServerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
            var path = Path.Combine(root, "src", "Compliance.Server", "bin", configuration, "net10.0", "Compliance.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the server first.", path);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
