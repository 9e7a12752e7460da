using System.Data;
using System.Diagnostics;
using System.Globalization;
using Compliance.Consent;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Verification;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Keys.Hashing;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Compliance.Benchmarks.Ledger;

/// <summary>
/// The ledger on a real PostgreSQL (fsync and synchronous_commit on): appends through the ledger's own code by 50
/// concurrent writers (each waits for its commit, as a consent screen does), then full verification from the tables.
/// The server's settings come from the environment (LEDGER_PG: Host, Port, Username; the databases are created by
/// ledger.sh; LEDGER_PG_DATA: its data folder, for the server's CPU time; LEDGER_KEK_DIR: a KEK folder to keep, for
/// --verify-only).
/// </summary>
internal static class PostgresMode
{
    private const int Writers = 50;
    private const int Warmup = 2_000;
    private const int Measured = 20_000;

    public static async Task RunAsync(BenchOptions options, Sha256Throughput sha, Action<string> say)
    {
        var server = Environment.GetEnvironmentVariable("LEDGER_PG") ?? throw new ArgumentException("LEDGER_PG is not set: run benchmarks/ledger.sh");
        // --verify-only needs the KEK of the run that appended: LEDGER_KEK_DIR keeps it between runs.
        var keptKeys = Environment.GetEnvironmentVariable("LEDGER_KEK_DIR");
        var keyFolder = keptKeys ?? Directory.CreateTempSubdirectory("ledger-bench-kek-").FullName;
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
        if (!options.VerifyOnly)
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest("bench-partner", "Bench", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, ["https://bench.example/cb"], [],
                    ["openid", "research", "newsletter"], ["authorization_code"],
                    ControllerName: "Bench SAS", DpoContact: "mailto:dpo@bench.example", NoticeUrl: "https://bench.example/privacy"),
                CancellationToken.None);
        }

        var total = Math.Max(options.Events, Warmup + Measured);
        double? appendRate = null;
        var latencies = new List<double>(Measured);
        if (!options.VerifyOnly)
        {
            var patients = Enumerable.Range(0, Writers * 20).Select(_ => Guid.CreateVersion7()).ToArray();
            await AppendAsync(services, patients, Warmup, null);
            var clock = Stopwatch.StartNew();
            await AppendAsync(services, patients, Measured, latencies);
            appendRate = Measured / clock.Elapsed.TotalSeconds;
            latencies.Sort();
            if (total > Warmup + Measured)
            {
                Console.WriteLine(F($"growing the log to {total:N0} events for the verification (not measured)"));
                await AppendAsync(services, patients, total - Warmup - Measured, null);
            }

            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None);
        }

        var cpu = CpuTime.FromEnvironment();
        var database = server + ";Database=bench_compliance";
        var full = await MeasureAsync(cpu, total, async () =>
        {
            await using var scope = services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None);
            return result.Intact && result.Leaves == total ? result.Elapsed : throw new InvalidOperationException("The ledger did not verify: the benchmark measured nothing.");
        });
        var copy = await MeasureAsync(cpu, total, () => CopyDiscardedAsync(database, total));
        var rows = await ReadRowsAsync(database);
        var checkpoints = await CheckpointsAsync(database);
        using var hasher = await services.GetRequiredService<IKeyedHash>().HasherAsync("consent-ledger-seal", CancellationToken.None);
        var seal = new CustodySeal(hasher);
        var alone = await MeasureAsync(cpu, total, async () =>
        {
            var result = await LedgerVerifier.VerifyAsync(InMemory(rows), checkpoints, [], seal, CancellationToken.None);
            return result.Intact && result.Leaves == total ? result.Elapsed : throw new InvalidOperationException("The rows read back did not verify: the benchmark measured nothing.");
        });

        var cores = Environment.ProcessorCount;
        if (appendRate is { } rate)
        {
            say(F($"PostgreSQL: {Writers} writers appending one event each through the ledger (each waits for its commit), after {Warmup:N0} events of warm-up;"));
        }
        else
        {
            say("PostgreSQL (--verify-only: the ledger a previous run left, no appends measured);");
        }

        say(F($"then full verification from the tables of {total:N0} events (leaves joined with payloads, seals, the checkpoints), median of 3 runs after one."));
        say("CPU per event: this process (client) and the PostgreSQL cluster's processes (server), from /proc, during the same runs.");
        say("");
        say("| figure | value |");
        say("|---|---|");
        if (appendRate is { } appended)
        {
            say(F($"| appends, events/s | {appended:N0} |"));
            say(F($"| append latency p50 / p99 | {latencies[latencies.Count / 2]:N1} / {latencies[(int)(latencies.Count * 0.99)]:N1} ms |"));
            say(F($"| target (appends) | ≥ 2,000 events/s: {(appended >= 2_000 ? "met" : "NOT met")} |"));
        }

        say(F($"| **verification from PostgreSQL** (`ILedgerIntegrity.VerifyAsync`, whole call), events/s (median) | **{full.Median:N0}** |"));
        say(F($"| the same, runs | {full.Runs} |"));
        say(F($"| the same, on the verifier's own clock (`LedgerVerification.Elapsed`: rows only) | {full.InnerMedian:N0} |"));
        say(F($"| the same, CPU per event: client / server | {full.ClientMicros:N2} / {full.ServerMicros:N2} µs |"));
        say(F($"| ceiling 1: binary `COPY` of the same rows, discarded client-side, events/s | {copy.Median:N0} (CPU per event {copy.ClientMicros:N2} / {copy.ServerMicros:N2} µs) |"));
        say(F($"| ceiling 2: the verifier alone on the same rows from memory, key custody's seal, events/s | {alone.Median:N0} (CPU per event {alone.ClientMicros:N2} µs) |"));
        say(F($"| ceiling on {cores} quiet cores: {cores} ÷ (client + server CPU per event of the full verification) | {cores / ((full.ClientMicros + full.ServerMicros) / 1e6):N0} events/s |"));
        say(F($"| SHA-256 732-byte hashes/s, all cores | {sha.PayloadAll:N0} |"));
        say(F($"| target (verification) | ≥ 500,000 events/s: {(full.Median >= 500_000 ? "met" : "NOT met")} |"));
        if (keptKeys is null)
        {
            Directory.Delete(keyFolder, recursive: true);
        }
    }

    private sealed record Measure(double Median, double InnerMedian, string Runs, double ClientMicros, double ServerMicros);

    // One warm-up, then 3 runs: events/s by wall clock (median), by the run's own clock, and CPU per event (medians).
    private static async Task<Measure> MeasureAsync(CpuTime cpu, long events, Func<Task<TimeSpan>> run)
    {
        await run();
        var walls = new List<double>();
        var inners = new List<double>();
        var clients = new List<double>();
        var servers = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var before = cpu.Now();
            var clock = Stopwatch.StartNew();
            var inner = await run();
            var wall = clock.Elapsed.TotalSeconds;
            var after = cpu.Now();
            walls.Add(events / wall);
            inners.Add(events / inner.TotalSeconds);
            clients.Add((after.Client - before.Client) * 1e6 / events);
            servers.Add((after.Server - before.Server) * 1e6 / events);
        }

        var runs = string.Join(" / ", walls.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)));
        return new Measure(Median(walls), Median(inners), runs, Median(clients), Median(servers));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    // The rows Integrity/LedgerIntegrity reads (same join, same order, same session settings), as a binary COPY whose
    // bytes are thrown away: no verifier on this side of the socket can read them faster.
    private const string CopySql = """
        COPY (SELECT l.leaf_index, l.event_id, l.appended_at, l.payload_commitment, l.leaf_hash, l.seal,
                     p.event_id IS NOT NULL, p.salt, p.payload
              FROM consent_leaves l LEFT JOIN consent_payloads p ON p.event_id = l.event_id
              ORDER BY l.leaf_index) TO STDOUT (FORMAT BINARY)
        """;

    private static async Task<TimeSpan> CopyDiscardedAsync(string database, long events)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        await using (var settings = new NpgsqlCommand("SET TRANSACTION READ ONLY; SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0", connection, transaction))
        {
            await settings.ExecuteNonQueryAsync();
        }

        var buffer = new byte[1 << 20];
        long bytes = 0;
        await using (var stream = await connection.BeginRawBinaryCopyAsync(CopySql))
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(), CancellationToken.None)) > 0)
            {
                bytes += read;
            }
        }

        // Each row is at least its nine field lengths: a stream far shorter than that read nothing real.
        return bytes >= events * 9 * 4 ? clock.Elapsed : throw new InvalidOperationException("The COPY returned too few bytes: the benchmark measured nothing.");
    }

    // The rows once, through a plain reader, to measure the verifier alone on them.
    private static async Task<LedgerRow[]> ReadRowsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(CopySql[6..CopySql.IndexOf(") TO STDOUT", StringComparison.Ordinal)], connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(reader.GetInt64(0), reader.GetGuid(1), reader.GetFieldValue<DateTimeOffset>(2), (byte[])reader[3], (byte[])reader[4],
                (byte[])reader[5], reader.GetBoolean(6), reader.IsDBNull(7) ? null : (byte[])reader[7], reader.IsDBNull(8) ? null : (byte[])reader[8]));
        }

        return [.. rows];
    }

    // The checkpoints as stored; their signatures are the integrity service's business, not the verifier's.
    private static async Task<List<CheckpointToCheck>> CheckpointsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tree_size, root_hash, signed_at, key_id FROM consent_checkpoints ORDER BY tree_size", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var checkpoints = new List<CheckpointToCheck>();
        while (await reader.ReadAsync())
        {
            checkpoints.Add(new CheckpointToCheck(reader.GetInt64(0), (byte[])reader[1], reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3), true));
        }

        return checkpoints;
    }

    private static async IAsyncEnumerable<LedgerRow> InMemory(LedgerRow[] rows)
    {
        await Task.CompletedTask;
        foreach (var row in rows)
        {
            yield return row;
        }
    }

    // The seal as the integrity service computes it: key custody's hasher under the ledger's purpose, keyed once per thread.
    private sealed class CustodySeal(KeyedHasher hasher) : ILeafSeal
    {
        public ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken) =>
            ValueTask.FromResult(hasher.Compute(leafHash.Span));
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
