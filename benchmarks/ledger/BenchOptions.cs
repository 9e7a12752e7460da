using System.Globalization;

namespace Compliance.Benchmarks.Ledger;

/// <summary>Command line: --mode (memory), --events (1,000,000), --report (a Markdown file to write), --verify-only (postgresql:
/// reuse the ledger a previous run left in the same databases, no appends).</summary>
internal sealed record BenchOptions(string Mode, int Events, string? Report, bool VerifyOnly = false)
{
    public static BenchOptions Parse(string[] args)
    {
        string mode = "memory", report = null!;
        var events = 1_000_000;
        var verifyOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--verify-only")
            {
                verifyOnly = true;
                continue;
            }

            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--mode": mode = value; break;
                case "--events": events = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--report": report = Path.GetFullPath(value); break;
                default: throw new ArgumentException($"unknown option {args[i]}; usage: ledger --mode memory|postgresql [--events N] [--report file.md] [--verify-only]");
            }

            i++;
        }

        return new BenchOptions(mode, events, report, verifyOnly);
    }
}
