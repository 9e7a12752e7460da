using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Compliance.Benchmarks.Ledger;

/// <summary>This machine's SHA-256: MB/s over 1 MiB buffers, and hashes/s of a leaf (65 bytes) and a salted payload (732 bytes).</summary>
internal sealed record Sha256Throughput(double MegabytesPerSecond1, double MegabytesPerSecondAll, double Leaf1, double LeafAll, double Payload1, double PayloadAll)
{
    private const double Seconds = 1.5;

    public static Sha256Throughput Measure(Action<string> say)
    {
        var cores = Environment.ProcessorCount;
        var mib = Rate(1 << 20, 1);
        var mibAll = Rate(1 << 20, cores);
        var result = new Sha256Throughput(mib * 1.048576, mibAll * 1.048576, Rate(65, 1), Rate(65, cores), Rate(732, 1), Rate(732, cores));
        say($"SHA-256 on this machine ({Seconds} s per figure, SHA-256 via .NET's {nameof(SHA256)}.HashData):");
        say("");
        say($"| input | one core | all {cores} cores |");
        say("|---|---|---|");
        say(F($"| 1 MiB buffers | {result.MegabytesPerSecond1:N0} MB/s | {result.MegabytesPerSecondAll:N0} MB/s |"));
        say(F($"| 65 bytes (a leaf header) | {result.Leaf1:N0} hashes/s | {result.LeafAll:N0} hashes/s |"));
        say(F($"| 732 bytes (salt + a 700-byte payload) | {result.Payload1:N0} hashes/s | {result.PayloadAll:N0} hashes/s |"));
        return result;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // Hashes per second of inputs of this size, over this many threads together.
    private static double Rate(int size, int threads)
    {
        var total = 0L;
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            var input = RandomNumberGenerator.GetBytes(size);
            Span<byte> hash = stackalloc byte[32];
            var count = 0L;
            var until = Stopwatch.GetTimestamp() + (long)(Seconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < until)
            {
                for (var i = 0; i < 64; i++)
                {
                    SHA256.HashData(input, hash);
                }

                count += 64;
            }

            Interlocked.Add(ref total, count);
        });
        return total / stopwatch.Elapsed.TotalSeconds;
    }
}
