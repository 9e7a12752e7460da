using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Lifecycle;
using Compliance.Consent.Receipts;
using Compliance.Jobs.Work;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Tests.Lifecycle;

/// <summary>
/// The lifecycle job on each store: a consent past its validity gets one <c>Expired</c> event, one given under a notice
/// version a material version superseded gets one <c>Invalidated</c> event, each a system record with its receipt; a
/// wording change writes nothing; a second run, a second node at the same time, or a patient renewing at the same
/// instant never adds a second event or an expiry after the renewal; and the ledger still verifies.
/// </summary>
public abstract class ConsentLifecycleTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    // Newsletter consent lasts P3Y: given this long ago, it has lapsed by a day.
    private static readonly TimeSpan Lapsed = TimeSpan.FromDays((3 * 366) + 1);
    private static readonly DateTimeOffset BeforeTheMaterialVersion = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly LedgerNodes _nodes = new(stores);
    private readonly List<LifecyclePolicies> _policies = [];

    public Task InitializeAsync() => SettleAttestationKeyAsync(_nodes.Node());

    public async Task DisposeAsync()
    {
        await _nodes.DisposeAsync();
        _policies.ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task ExpiredConsent_JobRuns_OneExpiredSystemEvent_KeepsTheNoticeVersion_AndTheReceiptSaysConsentExpired()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-a");
        var (lapsed, current) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var now = DateTimeOffset.UtcNow;
        await LedgerNodes.AppendAsync(node,
            Given(lapsed, partner, "newsletter", now - Lapsed),
            Given(lapsed, partner, "research", now - Lapsed),
            Given(current, partner, "newsletter", now.AddYears(-2)));

        var run = await RunAsync(node);

        run.Expired.ShouldBeGreaterThanOrEqualTo(1);
        var events = await EventsAsync(node, lapsed);
        events.Select(e => (e.PurposeId, e.State)).ShouldBe(
            [("newsletter", ConsentState.Expired), ("research", ConsentState.Given), ("newsletter", ConsentState.Given)],
            "newest first; research has no validity and still stands");
        (await EventsAsync(node, current)).ShouldHaveSingleItem().State.ShouldBe(ConsentState.Given, "two years of three: not lapsed");
        var standing = (await StandingAsync(node, lapsed)).Single(s => s.PurposeId == "newsletter");
        standing.State.ShouldBe(ConsentState.Expired);
        standing.NoticeVersion.ShouldBe("2025-09", "the state keeps the version the consent was given under");
        standing.ExpiresAt.ShouldBeNull();
        var record = await RecordAsync(node, lapsed, events[0].EventId);
        record.State.ShouldBe("dpv:ConsentExpired");
        record.StateName.ShouldBe("Expired");
        record.Method.ShouldBe(ConsentMethods.System);
        record.Actor.ShouldBe("system");
        record.Language.ShouldBe("fr");
        record.Notice.ShouldBeNull();
        record.ValidUntil.ShouldBeNull();
        record.OccurredAt.ShouldBeGreaterThanOrEqualTo(now.AddSeconds(-1));
        var shown = (await CurrentAsync(node, lapsed)).Single(c => c.PurposeId == "newsletter");
        (shown.State, shown.Stands).ShouldBe(("Expired", false));
        await ShouldVerifyAsync(node);
    }

    [Fact]
    public async Task JobRunsTwice_TheSecondRunWritesNothing()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-b");
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, Given(subject, partner, "newsletter", DateTimeOffset.UtcNow - Lapsed));
        await RunAsync(node);
        var leaves = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var second = await RunAsync(node);

        second.ShouldBe(new ConsentLifecycleRun(0, 0, 0, Finished: true));
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(leaves);
        (await EventsAsync(node, subject)).Select(e => e.State).ShouldBe([ConsentState.Expired, ConsentState.Given]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NewNoticeVersion_JobRuns_InvalidatesConsentsGivenUnderEarlierVersions_OnlyWhenMaterial(bool material)
    {
        var policies = Policies(material);
        var node = _nodes.Node(policies.Settings);
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-c" + (material ? "m" : "n"));
        var (earlier, later) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await LedgerNodes.AppendAsync(node,
            Given(earlier, partner, "research", BeforeTheMaterialVersion, LifecyclePolicies.Before),
            Given(earlier, partner, "newsletter", BeforeTheMaterialVersion),
            Given(later, partner, "research", BeforeTheMaterialVersion.AddDays(20), LifecyclePolicies.After));

        await RunAsync(node);
        var second = await RunAsync(node);

        var events = await EventsAsync(node, earlier);
        (await EventsAsync(node, later)).ShouldHaveSingleItem().State.ShouldBe(ConsentState.Given, "given under the version in force");
        events.Count(e => e.PurposeId == "newsletter").ShouldBe(1, "another purpose's notice changed nothing");
        second.ShouldBe(new ConsentLifecycleRun(0, 0, 0, Finished: true));
        if (!material)
        {
            events.Select(e => e.State).ShouldBe([ConsentState.Given, ConsentState.Given], "a wording change writes nothing");
            (await CurrentAsync(node, earlier)).ShouldAllBe(c => c.Stands);
            return;
        }

        events.Select(e => (e.PurposeId, e.State)).ShouldBe([("research", ConsentState.Invalidated), ("newsletter", ConsentState.Given), ("research", ConsentState.Given)]);
        (await StandingAsync(node, earlier)).Single(s => s.PurposeId == "research").NoticeVersion.ShouldBe(LifecyclePolicies.Before);
        var record = await RecordAsync(node, earlier, events[0].EventId);
        (record.State, record.Method, record.Actor, record.Notice).ShouldBe(("dpv:ConsentInvalidated", ConsentMethods.System, "system", (NoticeRef?)null));
        var shown = (await CurrentAsync(node, earlier)).Single(c => c.PurposeId == "research");
        (shown.State, shown.Stands).ShouldBe(("Invalidated", false));
        await ShouldVerifyAsync(node);
    }

    [Fact]
    public async Task TwoNodes_RunTheJobAtOnce_EachLapsedConsentGetsOneEvent()
    {
        var (first, second) = (_nodes.Node(), _nodes.Node());
        var partner = await LedgerNodes.PartnerAsync(first, "lifecycle-d");
        // More than one page of the job, so that the nodes meet on several.
        var subjects = Enumerable.Range(0, ConsentLifecycle.PageSize + 100).Select(_ => Guid.CreateVersion7()).ToList();
        var givenAt = DateTimeOffset.UtcNow - Lapsed;
        foreach (var chunk in subjects.Chunk(ConsentLedger.MaxEventsPerAppend))
        {
            await LedgerNodes.AppendAsync(first, [.. chunk.Select(s => Given(s, partner, "newsletter", givenAt))]);
        }

        var runs = await Task.WhenAll(RunAsync(first), RunAsync(second));

        runs.Sum(r => r.Expired).ShouldBeGreaterThanOrEqualTo(subjects.Count);
        var expired = await StoreSql.CountAsync(stores.Compliance,
            $"SELECT COUNT(*) FROM consent_subject_events WHERE client_id = '{partner}' AND state = 'Expired'");
        expired.ShouldBe(subjects.Count, "one Expired event per consent, whichever node wrote it");
        (await StoreSql.CountAsync(stores.Compliance,
            $"SELECT COUNT(*) FROM consent_states WHERE client_id = '{partner}' AND state = 'Expired'")).ShouldBe(subjects.Count);
        await ShouldVerifyAsync(second);
    }

    [Fact]
    public async Task ExpiryDecidedBeforeARenewal_IsDroppedUnderTheLock_TheConsentStaysRenewed()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-e");
        var subject = Guid.CreateVersion7();
        var given = (await LedgerNodes.AppendAsync(node, Given(subject, partner, "newsletter", DateTimeOffset.UtcNow - Lapsed))).Single();
        // The job read the lapsed consent (its Given event), then the patient renewed it on the consent screen.
        var expiry = new ConsentEventDraft(subject, partner, "newsletter", ConsentState.Expired, null, "fr", ConsentMethods.System, "system",
            DateTimeOffset.UtcNow, ExpectedCurrentEventId: given.EventId);
        await RenewAsync(node, subject, partner);

        var appended = await LedgerNodes.AppendAsync(node, expiry);

        appended.ShouldBeEmpty();
        (await EventsAsync(node, subject)).Select(e => e.State).ShouldBe([ConsentState.RenewedGiven, ConsentState.Given]);
        (await CurrentAsync(node, subject)).Single().Stands.ShouldBeTrue();
    }

    [Fact]
    public async Task RenewalsRacingTheJob_EveryConsentEndsRenewed_NoExpiryAfterARenewal()
    {
        var (jobNode, patientNode) = (_nodes.Node(), _nodes.Node());
        var partner = await LedgerNodes.PartnerAsync(jobNode, "lifecycle-f");
        var subjects = Enumerable.Range(0, 150).Select(_ => Guid.CreateVersion7()).ToList();
        var givenAt = DateTimeOffset.UtcNow - Lapsed;
        foreach (var chunk in subjects.Chunk(ConsentLedger.MaxEventsPerAppend))
        {
            await LedgerNodes.AppendAsync(jobNode, [.. chunk.Select(s => Given(s, partner, "newsletter", givenAt))]);
        }

        var renewals = Task.Run(async () =>
        {
            foreach (var subject in subjects)
            {
                await RenewAsync(patientNode, subject, partner);
            }
        });
        await Task.WhenAll(RunAsync(jobNode), renewals);

        foreach (var subject in subjects)
        {
            // Newest first: the renewal is the last word whatever the interleaving, with the expiry before it or none.
            string.Join(' ', (await EventsAsync(jobNode, subject)).Select(e => e.State))
                .ShouldBeOneOf("RenewedGiven Given", "RenewedGiven Expired Given");
        }

        await ShouldVerifyAsync(jobNode);
    }

    [Fact]
    public async Task ExpiredByTheJob_TheNextAuthorizationAsksAgain_AndTheYesIsARenewal()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-g");
        var subject = Guid.CreateVersion7();
        await DecideAsync(node, subject, partner, DateTimeOffset.UtcNow - Lapsed);

        await RunAsync(node);

        (await EventsAsync(node, subject)).Select(e => e.State).ShouldBe([ConsentState.Expired, ConsentState.Given]);
        // What the authorization endpoint asks before it issues a code: without newsletter, it shows the consent screen.
        (await AllowedAsync(node, subject, partner)).ShouldBe(["openid"]);

        await DecideAsync(node, subject, partner, DateTimeOffset.UtcNow);

        (await EventsAsync(node, subject))[0].State.ShouldBe(ConsentState.RenewedGiven);
        (await AllowedAsync(node, subject, partner)).ShouldBe(["openid", "newsletter"], ignoreOrder: true);
    }

    [Fact]
    public async Task TwoWithdrawalsAtOnce_FromTwoNodes_RecordOneWithdrawalEach()
    {
        var (first, second) = (_nodes.Node(), _nodes.Node());
        var partner = await LedgerNodes.PartnerAsync(first, "lifecycle-h");
        var subjects = Enumerable.Range(0, 20).Select(_ => Guid.CreateVersion7()).ToList();
        await LedgerNodes.AppendAsync(first, [.. subjects.Select(s => Given(s, partner, "research", DateTimeOffset.UtcNow))]);

        var counts = new List<int>();
        foreach (var subject in subjects)
        {
            var both = await Task.WhenAll(WithdrawAsync(first, subject, partner), WithdrawAsync(second, subject, partner));
            counts.Add(both.Sum());
        }

        counts.ShouldAllBe(c => c == 1, "each patient's two clicks withdraw once, and say so");
        foreach (var subject in subjects)
        {
            (await EventsAsync(first, subject)).Select(e => e.State).ShouldBe([ConsentState.Withdrawn, ConsentState.Given]);
        }
    }

    [Fact]
    public async Task RunPastItsTimeBudget_StopsWithConsentsLeft_AndTheNextRunRecordsThem()
    {
        var node = _nodes.Node();
        var slow = _nodes.Node(clock: new SlowClock());
        var partner = await LedgerNodes.PartnerAsync(node, "lifecycle-i");
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, Given(subject, partner, "newsletter", DateTimeOffset.UtcNow - Lapsed));

        var stopped = await RunAsync(slow);

        stopped.Finished.ShouldBeFalse();
        (await EventsAsync(node, subject)).ShouldHaveSingleItem().State.ShouldBe(ConsentState.Given);
        var next = await RunAsync(node);
        next.Finished.ShouldBeTrue();
        (await EventsAsync(node, subject))[0].State.ShouldBe(ConsentState.Expired);
    }

    [Theory]
    [InlineData("every five minutes")]
    [InlineData("*/5 * * * *; rm -rf /")]
    [InlineData("")]
    public void LifecycleCron_NotACronExpression_RefusesTheSettingsWithAClearMessage(string cron)
    {
        var node = _nodes.Node(new Dictionary<string, string?> { ["Consent:LifecycleCron"] = cron });

        var refusal = Should.Throw<OptionsValidationException>(() => node.GetRequiredService<IOptions<ConsentOptions>>().Value);

        refusal.Message.ShouldContain("Consent:LifecycleCron");
    }

    [Fact]
    public void LifecycleCron_Unset_IsEveryFiveMinutes()
    {
        var node = _nodes.Node();

        using var scope = node.CreateScope();
        scope.ServiceProvider.GetServices<IRecurringWork>().Single(w => w.Id == "consent.lifecycle").Cron.ShouldBe("*/5 * * * *");
    }

    private LifecyclePolicies Policies(bool? material)
    {
        var policies = new LifecyclePolicies(material);
        _policies.Add(policies);
        return policies;
    }

    private static ConsentEventDraft Given(Guid subject, string partner, string purpose, DateTimeOffset at, string notice = LifecyclePolicies.Before) =>
        new(subject, partner, purpose, ConsentState.Given, notice, "fr", ConsentMethods.ConsentScreen, "data-subject", at);

    internal static Task<ConsentLifecycleRun> RunAsync(IServiceProvider node) =>
        LedgerNodes.InScopeAsync(node, s => s.GetServices<IRecurringWork>().OfType<ConsentLifecycle>().Single().RecordAsync(CancellationToken.None));

    internal static Task<IReadOnlyList<ConsentEventView>> EventsAsync(IServiceProvider node, Guid subject) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().EventsAsync(subject, CancellationToken.None));

    private static Task<IReadOnlyList<ConsentStandingView>> StandingAsync(IServiceProvider node, Guid subject) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().StandingAsync(subject, CancellationToken.None));

    private static Task<IReadOnlyList<PatientConsent>> CurrentAsync(IServiceProvider node, Guid subject) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPatientConsents>().CurrentAsync(subject, CancellationToken.None));

    private static Task<int> WithdrawAsync(IServiceProvider node, Guid subject, string partner) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPatientConsents>().WithdrawAsync(subject, partner, null, "fr", CancellationToken.None));

    private static Task<IReadOnlySet<string>> AllowedAsync(IServiceProvider node, Guid subject, string partner) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentDecisions>().AllowedScopesAsync(subject, partner, CancellationToken.None));

    /// <summary>The consent screen's "Allow" with the newsletter ticked, as the authorization flow records it.</summary>
    private static Task<bool> DecideAsync(IServiceProvider node, Guid subject, string partner, DateTimeOffset at) =>
        LedgerNodes.InScopeAsync(node, async s =>
        {
            await s.GetRequiredService<IConsentDecisions>().RecordAsync(
                new ConsentDecision(subject, partner, ["openid", "newsletter"], true, "fr", at)
                {
                    Purposes = [new ConsentDecision.PurposeChoice("newsletter", LifecyclePolicies.Before, Given: true)],
                },
                CancellationToken.None);
            return true;
        });

    /// <summary>A yes on the consent screen after an earlier yes: a renewal, recorded without expecting any state.</summary>
    private static Task<IReadOnlyList<AppendedConsentEvent>> RenewAsync(IServiceProvider node, Guid subject, string partner) =>
        LedgerNodes.AppendAsync(node, new ConsentEventDraft(subject, partner, "newsletter", ConsentState.RenewedGiven, LifecyclePolicies.Before, "fr",
            ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow));

    private static async Task<ConsentRecord> RecordAsync(IServiceProvider node, Guid subject, Guid eventId)
    {
        var receipt = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentReceipts>().ForSubjectAsync(subject, eventId, CancellationToken.None));
        var keys = await LedgerNodes.InScopeAsync(node, async s => AttestationVerifier.KeySetJson(await s.GetRequiredService<IAttestationKeys>().AllAsync(CancellationToken.None)));
        var check = ReceiptVerifier.Verify(receipt.ShouldNotBeNull(), keys);
        check.Valid.ShouldBeTrue(check.Refusal);
        return check.Record!;
    }

    /// <summary>
    /// Makes the first attestation key before anything is signed. A checkpoint reads its time before it asks for a
    /// key, and the first key is valid from the second it is made: a checkpoint that creates it across a second
    /// boundary carries a time before its key and fails verification (a defect of checkpoint signing, reported).
    /// </summary>
    internal static async Task SettleAttestationKeyAsync(IServiceProvider node)
    {
        await using var scope = node.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<IAttestationKeys>();
        if ((await keys.AllAsync(CancellationToken.None)).Count == 0)
        {
            await keys.RotateAsync(CancellationToken.None);
        }
    }

    internal static async Task ShouldVerifyAsync(IServiceProvider node)
    {
        var verification = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None));
        verification.Intact.ShouldBeTrue(string.Join("; ", verification.Findings));
    }
}

/// <summary>Real time, but every look at the stopwatch finds a minute gone: a run is past its budget at once.</summary>
internal sealed class SlowClock : TimeProvider
{
    private long _timestamp;

    public override long GetTimestamp() => Interlocked.Add(ref _timestamp, 60 * TimestampFrequency);
}

public sealed class ConsentLifecycleTests_Sqlite(SqliteStores stores) : ConsentLifecycleTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ConsentLifecycleTests_Postgres(PostgresStores stores) : ConsentLifecycleTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
