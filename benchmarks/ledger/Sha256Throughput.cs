using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Compliance.Benchmarks.Ledger;

/// <summary>This machine's SHA-256: MB/s over 1 MiB buffers, and hashes/s of a leaf (65 bytes) and a salted payload (732 bytes);
/// and a seal's HMAC-SHA256 of 32 bytes, one-shot (as key custody's IKeyedHash computes it) and keyed once per thread.</summary>
internal sealed record Sha256Throughput(double MegabytesPerSecond1, double MegabytesPerSecondAll, double Leaf1, double LeafAll, double Payload1, double PayloadAll,
    double SealOneShot1, double SealKeyed1)
{
    private const double Seconds = 1.5;

    public static Sha256Throughput Measure(Action<string> say)
    {
        var cores = Environment.ProcessorCount;
        var mib = Rate(1 << 20, 1);
        var mibAll = Rate(1 << 20, cores);
        var result = new Sha256Throughput(mib * 1.048576, mibAll * 1.048576, Rate(65, 1), Rate(65, cores), Rate(732, 1), Rate(732, cores), SealRate(keyedOnce: false), SealRate(keyedOnce: true));
        say($"SHA-256 on this machine ({Seconds} s per figure, SHA-256 via .NET's {nameof(SHA256)}.HashData):");
        say("");
        say($"| input | one core | all {cores} cores |");
        say("|---|---|---|");
        say(F($"| 1 MiB buffers | {result.MegabytesPerSecond1:N0} MB/s | {result.MegabytesPerSecondAll:N0} MB/s |"));
        say(F($"| 65 bytes (a leaf header) | {result.Leaf1:N0} hashes/s | {result.LeafAll:N0} hashes/s |"));
        say(F($"| 732 bytes (salt + a 700-byte payload) | {result.Payload1:N0} hashes/s | {result.PayloadAll:N0} hashes/s |"));
        say(F($"| HMAC-SHA256 of 32 bytes, one-shot (key custody's `IKeyedHash`, the seal) | {result.SealOneShot1:N0} /s | |"));
        say(F($"| HMAC-SHA256 of 32 bytes, keyed once per thread (`IncrementalHash`) | {result.SealKeyed1:N0} /s | |"));
        return result;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // Seals per second on one core: HMACSHA256.HashData sets the key up on every call; an IncrementalHash does it once.
    private static double SealRate(bool keyedOnce)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var input = RandomNumberGenerator.GetBytes(32);
        Span<byte> hash = stackalloc byte[32];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        var count = 0L;
        var stopwatch = Stopwatch.StartNew();
        var until = Stopwatch.GetTimestamp() + (long)(Seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            for (var i = 0; i < 64; i++)
            {
                if (keyedOnce)
                {
                    hmac.AppendData(input);
                    hmac.GetHashAndReset(hash);
                }
                else
                {
                    HMACSHA256.HashData(key, input, hash);
                }
            }

            count += 64;
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

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
