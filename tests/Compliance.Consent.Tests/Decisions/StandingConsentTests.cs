using Compliance.Consent.Ledger;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Decisions;

/// <summary>
/// A scope that rests on a consent-based purpose stands only while its consent does: given, not withdrawn, not
/// expired, and given under a notice version that no material version has superseded. A non-material version changes
/// nothing.
/// </summary>
public abstract class StandingConsentTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly DateTimeOffset Given = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly LedgerNodes _nodes = new(stores);
    private readonly string _policies = Directory.CreateTempSubdirectory("compliance-policies-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _nodes.DisposeAsync();
        Directory.Delete(_policies, recursive: true);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task ANewNoticeVersion_InvalidatesEarlierConsentsOnlyWhenMaterial(bool material, bool stillStands)
    {
        // The same text republished as version 2026-11, in force from 2026-11-15.
        CopyPolicies(newResearchVersion: material ? "material: true" : "material: false");
        var node = _nodes.Node(new Dictionary<string, string?> { ["Policies:Directory"] = _policies });
        var partner = await LedgerNodes.PartnerAsync(node, "standing-" + (material ? "m" : "n"));
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, new ConsentEventDraft(subject, partner, "research", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", Given));

        var before = await FilterAsync(node, subject, partner, "2026-11-10");
        var after = await FilterAsync(node, subject, partner, "2026-11-20");

        before.ShouldBe(["openid", "research"], ignoreOrder: true);
        after.Contains("research").ShouldBe(stillStands);
        after.ShouldContain("openid", "what rests on no purpose is untouched");
        // The account page (on the node's own clock, today, past 2026-11-15) says the same.
        var shown = (await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPatientConsents>().CurrentAsync(subject, CancellationToken.None))).Single();
        shown.Stands.ShouldBe(stillStands);
        shown.State.ShouldBe(stillStands ? "Given" : "Invalidated");
    }

    [Fact]
    public async Task AWithdrawnOrExpiredConsent_NoLongerGrantsItsScope()
    {
        CopyPolicies(newResearchVersion: null);
        var node = _nodes.Node(new Dictionary<string, string?> { ["Policies:Directory"] = _policies });
        var partner = await LedgerNodes.PartnerAsync(node, "standing-w");
        var (withdrawn, expiring) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await LedgerNodes.AppendAsync(node,
            new ConsentEventDraft(withdrawn, partner, "research", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", Given),
            new ConsentEventDraft(expiring, partner, "newsletter", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", Given));
        await LedgerNodes.AppendAsync(node,
            new ConsentEventDraft(withdrawn, partner, "research", ConsentState.Withdrawn, null, "fr", ConsentMethods.AccountPage, "data-subject", Given.AddDays(1)));

        (await FilterAsync(node, withdrawn, partner, "2026-11-05")).ShouldNotContain("research");
        (await FilterAsync(node, expiring, partner, "2026-11-05")).ShouldContain("newsletter");
        (await FilterAsync(node, expiring, partner, "2029-11-02")).ShouldNotContain("newsletter", "newsletter consent lasts P3Y");
    }

    private static async Task<IReadOnlySet<string>> FilterAsync(IServiceProvider node, Guid subject, string partner, string day)
    {
        await using var scope = node.CreateAsyncScope();
        var clock = new FixedClock(DateTimeOffset.Parse(day + "T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var filter = ActivatorUtilities.CreateInstance<Compliance.Consent.Decisions.LedgerConsentDecisions>(scope.ServiceProvider, (TimeProvider)clock);
        return await filter.FilterAsync(new HashSet<string>(["openid", "research", "newsletter"]), subject, partner, CancellationToken.None);
    }

    private void CopyPolicies(string? newResearchVersion)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(_policies, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy, overwrite: true);
        }

        if (newResearchVersion is null)
        {
            return;
        }

        var purposes = Path.Combine(_policies, "purposes.yaml");
        var text = File.ReadAllText(purposes);
        const string anchor = "              file: notices/research/2025-09.en.md\n";
        text.ShouldContain(anchor);
        File.WriteAllText(purposes, text.Replace(anchor, anchor + $"""
                    - version: "2026-11"
                      effectiveFrom: 2026-11-15
                      {newResearchVersion}
                      texts:
                        - language: fr
                          url: https://teleconsultation.example/notices/research/2026-11/fr
                          sha256: d663a443777bf62a41d4929c222f5f5cfdc41ee0ceede965bcdb77c341d31897
                          file: notices/research/2025-09.fr.md
                        - language: en
                          url: https://teleconsultation.example/notices/research/2026-11/en
                          sha256: a1e189fb4133135d1e59c802ade398992d7ce6e2b3cd30edfb82aab6a2079126
                          file: notices/research/2025-09.en.md

            """, StringComparison.Ordinal));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

public sealed class StandingConsentTests_Sqlite(SqliteStores stores) : StandingConsentTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class StandingConsentTests_Postgres(PostgresStores stores) : StandingConsentTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
