using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Compliance.Consent.Merkle;
using Compliance.Consent.Verification;

namespace Compliance.Benchmarks.Ledger;

/// <summary>Full verification of a synthetic ledger held in memory: the verifier's own cost, without a database.</summary>
internal static class MemoryMode
{
    private const int Runs = 3;

    public static async Task RunAsync(BenchOptions options, Sha256Throughput sha, Action<string> say)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var seal = new HmacSeal(key);
        var build = Stopwatch.StartNew();
        var rows = Build(options.Events, key);
        var leafHashes = rows.Select(r => r.LeafHash).ToList();
        List<CheckpointToCheck> checkpoints = [.. Enumerable.Range(1, 10).Select(i => (long)options.Events * i / 10)
            .Select(size => new CheckpointToCheck(size, MerkleTree.Root(leafHashes, size), DateTimeOffset.UtcNow, "bench", true))];
        Console.WriteLine(F($"built {options.Events:N0} events in {build.Elapsed.TotalSeconds:N1} s"));

        var rates = new List<double>();
        LedgerVerification? last = null;
        for (var run = 0; run <= Runs; run++)
        {
            var result = await LedgerVerifier.VerifyAsync(Stream(rows), checkpoints, [], seal, CancellationToken.None);
            if (!result.Intact || result.Leaves != options.Events)
            {
                throw new InvalidOperationException("The synthetic ledger did not verify: the benchmark measured nothing.");
            }

            if (run > 0)
            {
                rates.Add(result.Leaves / result.Elapsed.TotalSeconds);
            }

            last = result;
        }

        rates.Sort();
        var median = rates[rates.Count / 2];
        say(F($"Full verification in memory: {options.Events:N0} synthetic events (≈700-byte JSON payloads, 32-byte salts, HMAC-SHA256 seals), "));
        say(F($"10 checkpoints, rows from an in-memory async enumerable; median of {Runs} runs after one warm-up."));
        say("");
        say("| figure | value |");
        say("|---|---|");
        say(F($"| verification, events/s (median) | {median:N0} |"));
        say(F($"| verification, events/s (runs) | {string.Join(" / ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
        say(F($"| last run elapsed | {last!.Elapsed.TotalSeconds:N2} s |"));
        say(F($"| SHA-256 732-byte hashes/s, all cores | {sha.PayloadAll:N0} |"));
        say(F($"| ratio events/s ÷ 732-byte hashes/s (all cores) | {median / sha.PayloadAll:N2} |"));
        say(F($"| target | ≥ 500,000 events/s: {(median >= 500_000 ? "met" : "NOT met")} |"));
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static LedgerRow[] Build(int events, byte[] key)
    {
        var rows = new LedgerRow[events];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Parallel.For(0, events, i =>
        {
            var salt = RandomNumberGenerator.GetBytes(32);
            var payload = Payload(i);
            var commitment = LeafHeader.Commit(salt, payload);
            var header = new LeafHeader(i, Guid.CreateVersion7(), start.AddTicks(i * 10L * 1000), commitment);
            var leafHash = header.LeafHash();
            rows[i] = new LedgerRow(i, header.EventId, header.AppendedAt, commitment, leafHash, HMACSHA256.HashData(key, leafHash), true, salt, payload);
        });
        return rows;
    }

    // A consent event's JSON, padded to about 700 bytes as the store's payloads are.
    private static byte[] Payload(int i)
    {
        var json = string.Create(CultureInfo.InvariantCulture,
            $"{{\"subject\":\"{Guid.NewGuid():N}\",\"controller\":\"clinic-{i % 97}\",\"purpose\":\"teleconsultation-video\",\"state\":\"granted\",\"notice\":\"notice-v{i % 7}\",\"channel\":\"web\",\"locale\":\"fr-FR\",\"note\":\"");
        var builder = new StringBuilder(json);
        while (builder.Length < 698)
        {
            builder.Append('x');
        }

        return Encoding.UTF8.GetBytes(builder.Append("\"}").ToString());
    }

    private static async IAsyncEnumerable<LedgerRow> Stream(LedgerRow[] rows)
    {
        await Task.CompletedTask;
        foreach (var row in rows)
        {
            yield return row;
        }
    }

    // As key custody would seal: HMAC-SHA256, one keyed hasher per thread so the key schedule is not redone per row.
    private sealed class HmacSeal(byte[] key) : ILeafSeal, IDisposable
    {
        private readonly ThreadLocal<IncrementalHash> _hmac = new(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));

        public ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken)
        {
            var hmac = _hmac.Value!;
            hmac.AppendData(leafHash.Span);
            return ValueTask.FromResult(hmac.GetHashAndReset());
        }

        public void Dispose() => _hmac.Dispose();
    }
}
