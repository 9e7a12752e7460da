using System.Diagnostics;
using System.Globalization;
using Compliance.Consent;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Benchmarks.Ledger;

/// <summary>
/// The ledger on a real PostgreSQL (fsync and synchronous_commit on): appends through the ledger's own code by 50
/// concurrent writers (each waits for its commit, as a consent screen does), then full verification from the tables.
/// The server's settings come from the environment (LEDGER_PG: Host, Port, Username; the databases are created by
/// ledger.sh).
/// </summary>
internal static class PostgresMode
{
    private const int Writers = 50;
    private const int Warmup = 2_000;
    private const int Measured = 20_000;

    public static async Task RunAsync(BenchOptions options, Sha256Throughput sha, Action<string> say)
    {
        var server = Environment.GetEnvironmentVariable("LEDGER_PG") ?? throw new ArgumentException("LEDGER_PG is not set: run benchmarks/ledger.sh");
        var keyFolder = Directory.CreateTempSubdirectory("ledger-bench-kek-").FullName;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "PostgreSQL",
            ["Storage:ComplianceConnectionString"] = server + ";Database=bench_compliance;Maximum Pool Size=60",
            ["Storage:VaultConnectionString"] = server + ";Database=bench_vault",
            ["Keys:LocalKekPath"] = Path.Combine(keyFolder, "kek.key"),
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
        }).Build();
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddComplianceData(configuration, gateStartup: false)
            .AddCompliancePolicies(configuration)
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .AddComplianceConsent(configuration)
            .BuildServiceProvider();
        await services.CreateMigrator(Store.Compliance).MigrateAsync(CancellationToken.None);
        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest("bench-partner", "Bench", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, ["https://bench.example/cb"], [],
                    ["openid", "research", "newsletter"], ["authorization_code"],
                    ControllerName: "Bench SAS", DpoContact: "mailto:dpo@bench.example", NoticeUrl: "https://bench.example/privacy"),
                CancellationToken.None);
        }

        var patients = Enumerable.Range(0, Writers * 20).Select(_ => Guid.CreateVersion7()).ToArray();
        await AppendAsync(services, patients, Warmup, null);
        var latencies = new List<double>(Measured);
        var clock = Stopwatch.StartNew();
        await AppendAsync(services, patients, Measured, latencies);
        var appendRate = Measured / clock.Elapsed.TotalSeconds;
        latencies.Sort();

        var total = Math.Max(options.Events, Warmup + Measured);
        if (total > Warmup + Measured)
        {
            Console.WriteLine(F($"growing the log to {total:N0} events for the verification (not measured)"));
            await AppendAsync(services, patients, total - Warmup - Measured, null);
        }

        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None);
        }

        var rates = new List<double>();
        for (var run = 0; run <= 3; run++)
        {
            await using var scope = services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None);
            if (!result.Intact || result.Leaves != total)
            {
                throw new InvalidOperationException("The ledger did not verify: the benchmark measured nothing.");
            }

            if (run > 0)
            {
                rates.Add(result.Leaves / result.Elapsed.TotalSeconds);
            }
        }

        rates.Sort();
        var verifyRate = rates[rates.Count / 2];
        say(F($"PostgreSQL: {Writers} writers appending one event each through the ledger (each waits for its commit), after {Warmup:N0} events of warm-up;"));
        say(F($"then full verification from the tables of {total:N0} events (leaves joined with payloads, seals, one checkpoint), median of 3 runs after one."));
        say("");
        say("| figure | value |");
        say("|---|---|");
        say(F($"| appends, events/s | {appendRate:N0} |"));
        say(F($"| append latency p50 / p99 | {latencies[latencies.Count / 2]:N1} / {latencies[(int)(latencies.Count * 0.99)]:N1} ms |"));
        say(F($"| target (appends) | ≥ 2,000 events/s: {(appendRate >= 2_000 ? "met" : "NOT met")} |"));
        say(F($"| verification from PostgreSQL, events/s (median) | {verifyRate:N0} |"));
        say(F($"| verification, events/s (runs) | {string.Join(" / ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
        say(F($"| SHA-256 732-byte hashes/s, all cores | {sha.PayloadAll:N0} |"));
        say(F($"| target (verification) | ≥ 500,000 events/s: {(verifyRate >= 500_000 ? "met" : "NOT met")} |"));
        Directory.Delete(keyFolder, recursive: true);
    }

    private static async Task AppendAsync(ServiceProvider services, Guid[] patients, int events, List<double>? latencies)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < events)
            {
                var started = Stopwatch.GetTimestamp();
                await using var scope = services.CreateAsyncScope();
                var i = Random.Shared.Next(patients.Length);
                await scope.ServiceProvider.GetRequiredService<IConsentLedger>().AppendAsync(
                    [new ConsentEventDraft(patients[i], "bench-partner", i % 2 == 0 ? "research" : "newsletter", i % 3 == 0 ? ConsentState.Refused : ConsentState.Given,
                        "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow)],
                    CancellationToken.None);
                if (latencies is not null)
                {
                    lock (latencies)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
            }
        })));
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
