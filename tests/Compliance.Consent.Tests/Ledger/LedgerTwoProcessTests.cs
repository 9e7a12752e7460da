using System.Diagnostics;
using System.Reflection;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Ledger;

/// <summary>
/// Two processes appending through the ledger's own code, at once, on one PostgreSQL database: 50 writers × 200 events.
/// The log ends in one gapless order holding every event once, and full verification passes.
/// </summary>
public sealed class LedgerTwoProcessTests(PostgresStores stores) : IClassFixture<PostgresStores>, IAsyncDisposable
{
    private readonly LedgerNodes _nodes = new(stores);
    private readonly string _kek = Path.Combine(Path.GetTempPath(), $"ledger-kek-{Guid.NewGuid():N}", "kek.key");

    [Fact]
    public async Task TwoProcesses_FiftyWritersTimesTwoHundredEvents_GiveOneGaplessOrder_NoneLost_AndVerify()
    {
        var settings = new Dictionary<string, string?>(stores.Settings) { ["Keys:LocalKekPath"] = _kek };
        var node = _nodes.Node(settings);
        var partner = await LedgerNodes.PartnerAsync(node, "two-process");
        await LedgerNodes.AppendAsync(node, new Compliance.Consent.Ledger.ConsentEventDraft(
            Guid.CreateVersion7(), partner, "research", Compliance.Consent.Ledger.ConsentState.Given, "2025-09", "fr", "consent-screen", "data-subject", DateTimeOffset.UtcNow));
        var before = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var runs = await Task.WhenAll(RunWriterAsync(settings, partner), RunWriterAsync(settings, partner));

        var appended = runs.SelectMany(r => r).ToList();
        appended.Count.ShouldBe(10_000);
        appended.Select(a => a.EventId).Distinct().Count().ShouldBe(10_000, "no event twice");
        appended.Select(a => a.Index).Order().ShouldBe(Enumerable.Range((int)before, 10_000).Select(i => (long)i), "one gapless order across both processes");
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(before + 10_000);
        await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None));
        var verification = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None));
        verification.Findings.ShouldBeEmpty();
        verification.Leaves.ShouldBe(before + 10_000);
    }

    public async ValueTask DisposeAsync()
    {
        await _nodes.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_kek)!, recursive: true);
    }

    private static async Task<List<(Guid EventId, long Index)>> RunWriterAsync(IReadOnlyDictionary<string, string?> settings, string partner)
    {
        var start = new ProcessStartInfo("dotnet", [WriterAssembly, "--writers", "25", "--events", "200", "--partner", partner])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.ShouldBe(0, await error);
        return [.. (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("event ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .Select(parts => (Guid.Parse(parts[1]), long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)))];
    }

    private static string WriterAssembly
    {
        get
        {
            var configuration = typeof(LedgerTwoProcessTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
            return Path.Combine(root, "tests", "Compliance.Consent.Writer", "bin", configuration, "net10.0", "Compliance.Consent.Writer.dll");
        }
    }
}
