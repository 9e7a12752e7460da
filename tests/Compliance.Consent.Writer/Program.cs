using System.Diagnostics;
using System.Globalization;
using Compliance.Consent;
using Compliance.Consent.Ledger;
using Compliance.Data;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Usage: Compliance.Consent.Writer --writers 25 --events 200 --partner CLIENT_ID [--quiet]
// Prints one line per appended event ("event <id> <index>"), then "appended N events in S s: R events/s".
var arguments = args.Select((value, i) => (value, i)).Where(a => a.value.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(a => a.value[2..], a => a.i + 1 < args.Length ? args[a.i + 1] : "", StringComparer.Ordinal);
var writers = int.Parse(arguments.GetValueOrDefault("writers", "25"), CultureInfo.InvariantCulture);
var events = int.Parse(arguments.GetValueOrDefault("events", "200"), CultureInfo.InvariantCulture);
var partner = arguments.GetValueOrDefault("partner", "ledger-writer");
var quiet = arguments.ContainsKey("quiet");

var configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?> { ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies") })
    .AddEnvironmentVariables()
    .Build();
await using var services = new ServiceCollection()
    .AddLogging()
    .AddComplianceData(configuration, gateStartup: false)
    .AddCompliancePolicies(configuration)
    .AddComplianceKeys(configuration)
    .AddComplianceOidc(configuration)
    .AddComplianceConsent(configuration)
    .BuildServiceProvider();

// Patients decide more than once: each writer speaks for 20 of them, so their pairwise subjects exist after the first round.
var patients = Enumerable.Range(0, writers * 20).Select(_ => Guid.CreateVersion7()).ToArray();
var output = new List<string>(writers * events);
var start = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
{
    for (var i = 0; i < events; i++)
    {
        await using var scope = services.CreateAsyncScope();
        var ledger = scope.ServiceProvider.GetRequiredService<IConsentLedger>();
        var appended = await ledger.AppendAsync(
            [new ConsentEventDraft(patients[(writer * 20) + (i % 20)], partner, i % 2 == 0 ? "research" : "newsletter", i % 3 == 0 ? ConsentState.Refused : ConsentState.Given,
                "2025-09", writer % 2 == 0 ? "fr" : "en", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow)],
            CancellationToken.None);
        lock (output)
        {
            output.Add(string.Create(CultureInfo.InvariantCulture, $"event {appended[0].EventId} {appended[0].LeafIndex}"));
        }
    }
})));
start.Stop();

if (!quiet)
{
    foreach (var line in output)
    {
        Console.WriteLine(line);
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"appended {output.Count} events in {start.Elapsed.TotalSeconds:0.000} s: {output.Count / start.Elapsed.TotalSeconds:0} events/s"));
