// Key-encryption key benchmark. See benchmarks/README.md, "Key-encryption keys". Linux only (SoftHSM2, file modes).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Compliance.Data;
using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var serverDll = args.Length > 0 ? Path.GetFullPath(args[0]) : throw new ArgumentException("usage: kek <Compliance.Server.dll> <report.md>");
var report = args.Length > 1 ? Path.GetFullPath(args[1]) : throw new ArgumentException("usage: kek <Compliance.Server.dll> <report.md>");
var seconds = double.Parse(Environment.GetEnvironmentVariable("KEK_SECONDS") ?? "3", CultureInfo.InvariantCulture);
var concurrency = int.Parse(Environment.GetEnvironmentVariable("KEK_CONCURRENCY") ?? "4", CultureInfo.InvariantCulture);
var starts = int.Parse(Environment.GetEnvironmentVariable("KEK_STARTS") ?? "15", CultureInfo.InvariantCulture);
var requests = int.Parse(Environment.GetEnvironmentVariable("KEK_REQUESTS") ?? "2000", CultureInfo.InvariantCulture);
var work = Directory.CreateTempSubdirectory("compliance-kek-bench-").FullName;
var lines = new List<string>();
void Say(string line) { Console.WriteLine(line); lines.Add(line); }

try
{
    // --- The three custodies, configured as an operator would ------------------------------------------------------
    const string TokenLabel = "kek-bench";
    const string Pin = "bench-pin-1234";
    SoftHsm.Instance.InitToken(TokenLabel, Pin);
    await using var vault = await KeyVaultStandIn.StartAsync();
    using var identity = vault.UseAsManagedIdentity();
    vault.CreateKey("kek-bench");
    var kinds = new (string Name, Dictionary<string, string?> Settings)[]
    {
        ("local file", new() { ["Keys:Kek"] = "local", ["Keys:LocalKekPath"] = Path.Combine(work, "kek.key") }),
        ("PKCS#11 (SoftHSM2)", Pkcs11Settings()),
        ("Azure Key Vault (local stand-in, HTTP)", new()
        {
            ["Keys:Kek"] = "azure-key-vault", ["Keys:AzureKeyVault:KeyId"] = vault.KeyUrl("kek-bench"), ["Keys:AzureKeyVault:Region"] = "francecentral",
            ["Keys:AzureKeyVault:Credential"] = "managed-identity", ["Keys:AzureKeyVault:AllowLoopbackHttp"] = "true",
        }),
    };

    Say($"# Key-encryption keys ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
    Say("");
    Say($"Wraps and unwraps of a 32-byte data key, {concurrency} concurrent callers, {seconds} s each, after a 1 s warm-up. One run: compare rows, not runs.");
    Say("");
    Say("| KEK | wraps/s | unwraps/s | unwrap p50 | unwrap p99 |");
    Say("|---|---|---|---|---|");
    var first = true;
    foreach (var (name, settings) in kinds)
    {
        await using var services = Services(settings);
        if (first)
        {
            await Migrate(settings);
            first = false;
        }

        if (settings["Keys:Kek"] == "pkcs11")
        {
            await Migrate(settings);
            await services.GetRequiredService<IKekProvisioning>().CreateAsync(CancellationToken.None);
        }

        var kek = services.GetRequiredService<IKeyEncryptionKey>();
        await kek.EnsureReadyAsync(CancellationToken.None);
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        await Rate(() => kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None), 1);
        var wraps = (await Rate(() => kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None), seconds)).PerSecond;
        var unwraps = await Rate(() => kek.UnwrapAsync(wrapped, CancellationToken.None), seconds);
        Say($"| {name} | {wraps:N0} | {unwraps.PerSecond:N0} | {unwraps.P50:N2} ms | {unwraps.P99:N2} ms |");
    }

    // --- The token endpoint on the PKCS#11 KEK, against the local file, same run ----------------------------------
    Say("");
    Say($"Token endpoint (client_credentials, ES256), one connection. Cold: the first token request after a start, over {starts} starts "
        + "(the node unwraps its signing keys through the KEK at start and when a refresh finds a key it does not hold). "
        + $"Warm: {requests} sequential requests on a running node.");
    Say("");
    Say("| KEK | start to ready p50 | cold request p50 | cold request p99 | warm p50 | warm p99 |");
    Say("|---|---|---|---|---|---|");
    foreach (var (name, settings) in kinds.Take(2))
    {
        var data = Directory.CreateDirectory(Path.Combine(work, "server-" + settings["Keys:Kek"]), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var env = new Dictionary<string, string?>(settings.Where(s => s.Key != "Keys:LocalKekPath"))
        {
            ["Storage:DataDirectory"] = data, ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Oidc:TokenRequestsPerSecond"] = "1000000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var ready = new List<double>();
        var cold = new List<double>();
        for (var i = 0; i < starts; i++)
        {
            await using var server = await Server.StartAsync(serverDll, env);
            ready.Add(server.ReadyMs);
            cold.Add(await server.TokenMsAsync());
        }

        await using var running = await Server.StartAsync(serverDll, env);
        for (var i = 0; i < 200; i++)
        {
            await running.TokenMsAsync();
        }

        var warm = new List<double>();
        for (var i = 0; i < requests; i++)
        {
            warm.Add(await running.TokenMsAsync());
        }

        Say($"| {name} | {Percentile(ready, 50):N0} ms | {Percentile(cold, 50):N1} ms | {Percentile(cold, 99):N1} ms | {Percentile(warm, 50):N2} ms | {Percentile(warm, 99):N2} ms |");
    }

    await File.WriteAllLinesAsync(report, lines);
    Console.WriteLine($"Wrote {report}");

    Dictionary<string, string?> Pkcs11Settings() => new()
    {
        ["Keys:Kek"] = "pkcs11", ["Keys:Pkcs11:ModulePath"] = SoftHsm.ModulePath, ["Keys:Pkcs11:TokenLabel"] = TokenLabel,
        ["Keys:Pkcs11:Pin"] = Pin, ["Keys:Pkcs11:KeyLabel"] = "kek",
    };
}
finally
{
    Directory.Delete(work, recursive: true);
}

ServiceProvider Services(Dictionary<string, string?> settings)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Storage:DataDirectory"] = work }).Build();
    return new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
        .AddComplianceData(configuration, gateStartup: false).AddComplianceKeys(configuration).BuildServiceProvider();
}

async Task Migrate(Dictionary<string, string?> settings)
{
    await using var services = Services(settings);
    var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
    foreach (var store in Enum.GetValues<Store>())
    {
        await new SchemaMigrator(storage.ConnectionFor(store), TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }
}

async Task<(double PerSecond, double P50, double P99)> Rate<T>(Func<Task<T>> operation, double duration)
{
    var watch = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    var latencies = new List<double>[concurrency];
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => Task.Run(async () =>
    {
        latencies[i] = [];
        while (watch.Elapsed < until)
        {
            var start = Stopwatch.GetTimestamp();
            await operation();
            latencies[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    })));
    var all = latencies.SelectMany(l => l).ToList();
    return (all.Count / watch.Elapsed.TotalSeconds, Percentile(all, 50), Percentile(all, 99));
}

static double Percentile(List<double> values, double percent)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>The published server as a process on a free loopback port, with the demo client of the Development environment.</summary>
internal sealed class Server : IAsyncDisposable
{
    private static readonly AuthenticationHeaderValue Basic = new("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("demo-client:demo-client-secret-for-local-tries-only")));
    private readonly Process _process;
    private readonly HttpClient _http;

    private Server(Process process, HttpClient http, double readyMs) => (_process, _http, ReadyMs) = (process, http, readyMs);

    public double ReadyMs { get; }

    public static async Task<Server> StartAsync(string dll, Dictionary<string, string?> settings)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Urls"] = url;
        start.Environment["Oidc__Issuer"] = url;
        var watch = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri(url) };
        while (true)
        {
            if (process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                lock (errors)
                {
                    throw new InvalidOperationException($"The server did not become ready: {errors}");
                }
            }

            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(20);
        }

        return new Server(process, http, watch.Elapsed.TotalMilliseconds);
    }

    public async Task<double> TokenMsAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = Basic;
        var start = Stopwatch.GetTimestamp();
        using var response = await _http.SendAsync(request);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return response.IsSuccessStatusCode ? elapsed : throw new InvalidOperationException($"token request: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
