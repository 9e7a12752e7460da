// Consent-ledger benchmark. See benchmarks/README.md, "Consent ledger".
//   ledger --mode memory|postgresql [--events N] [--report path.md]
using System.Globalization;
using Compliance.Benchmarks.Ledger;

var options = BenchOptions.Parse(args);
var lines = new List<string>();
void Say(string line)
{
    Console.WriteLine(line);
    lines.Add(line);
}

Say(string.Create(CultureInfo.InvariantCulture, $"# Consent ledger verification ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {LoadAverage()}, mode {options.Mode})"));
Say("");
var sha = Sha256Throughput.Measure(Say);
Say("");
switch (options.Mode)
{
    case "memory":
        await MemoryMode.RunAsync(options, sha, Say);
        break;
    case "postgresql":
        await PostgresMode.RunAsync(options, sha, Say);
        break;
    default:
        throw new ArgumentException($"unknown --mode {options.Mode}; known: memory, postgresql");
}

if (options.Report is { } report)
{
    Directory.CreateDirectory(Path.GetDirectoryName(report)!);
    await File.WriteAllLinesAsync(report, lines);
    Console.WriteLine($"wrote {report}");
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
