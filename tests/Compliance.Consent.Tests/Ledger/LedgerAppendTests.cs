using System.Text;
using System.Text.Json;
using Compliance.Consent.Ledger;
using Compliance.Consent.Merkle;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Ledger;

/// <summary>
/// Appends on each store: one gapless order, payloads as records, the current state moved in the same transaction,
/// refusals that write nothing, and tables that refuse every change but a redaction.
/// </summary>
public abstract class LedgerAppendTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Append_TwoPurposesOfOneDecision_TakeTheNextTwoIndexes_AndMoveTheCurrentState()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-a");
        var subject = Guid.CreateVersion7();
        var before = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var appended = await LedgerNodes.AppendAsync(node,
            Draft(subject, partner, "research", ConsentState.Given),
            Draft(subject, partner, "newsletter", ConsentState.Refused));

        appended.Select(e => e.LeafIndex).ShouldBe([before, before + 1]);
        appended[1].ExpiresAt.ShouldBeNull("a refusal gives no validity");
        var standing = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().StandingAsync(subject, CancellationToken.None));
        standing.Select(s => (s.PurposeId, s.State, s.NoticeVersion)).ShouldBe([("newsletter", ConsentState.Refused, "2025-09"), ("research", ConsentState.Given, "2025-09")]);

        await LedgerNodes.AppendAsync(node, Draft(subject, partner, "research", ConsentState.Withdrawn, notice: null));
        standing = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().StandingAsync(subject, CancellationToken.None));
        standing.Single(s => s.PurposeId == "research").State.ShouldBe(ConsentState.Withdrawn);
        var events = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().EventsAsync(subject, CancellationToken.None));
        events.Select(e => e.State).ShouldBe([ConsentState.Withdrawn, ConsentState.Refused, ConsentState.Given], "newest first");
    }

    [Fact]
    public async Task Append_Given_StoresARecordThatNamesThePartnersPairwiseSubNeverTheInternalId_AndALeafThatCommitsToIt()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-b");
        var subject = Guid.CreateVersion7();

        var appended = (await LedgerNodes.AppendAsync(node, Draft(subject, partner, "newsletter", ConsentState.Given))).Single();

        appended.ExpiresAt.ShouldBe(Noon.AddYears(3), "newsletter consent lasts P3Y");
        var payload = (byte[])(await StoreSql.ScalarAsync(stores.Compliance, $"SELECT payload FROM consent_payloads WHERE event_id = {Id(appended.EventId)}"))!;
        var salt = (byte[])(await StoreSql.ScalarAsync(stores.Compliance, $"SELECT salt FROM consent_payloads WHERE event_id = {Id(appended.EventId)}"))!;
        var text = Encoding.UTF8.GetString(payload);
        text.ShouldNotContain(subject.ToString(), Case.Insensitive);
        using var record = JsonDocument.Parse(payload);
        var root = record.RootElement;
        root.GetProperty("record_id").GetGuid().ShouldBe(appended.EventId);
        root.GetProperty("data_subject").GetProperty("id_type").GetString().ShouldBe("pairwise-sub");
        root.GetProperty("data_subject").GetProperty("sector").GetString().ShouldBe("ledger-b.example");
        root.GetProperty("controller").GetProperty("client_id").GetString().ShouldBe(partner);
        root.GetProperty("purpose").GetProperty("legal_basis").GetString().ShouldBe("consent");
        root.GetProperty("notice").GetProperty("version").GetString().ShouldBe("2025-09");
        root.GetProperty("notice").GetProperty("sha256").GetString().ShouldBe("5c27e8257f6f5d081402329053ac4c4bbfb3dbbb5dd15f2cc90ffff22bd26232", "the French text's hash");
        root.GetProperty("state").GetString().ShouldBe("dpv:ConsentGiven");
        root.GetProperty("method").GetString().ShouldBe(ConsentMethods.ConsentScreen);
        root.GetProperty("policy_fingerprint").GetString()!.Length.ShouldBe(64);

        var commitment = (byte[])(await StoreSql.ScalarAsync(stores.Compliance, $"SELECT payload_commitment FROM consent_leaves WHERE leaf_index = {appended.LeafIndex}"))!;
        var leafHash = (byte[])(await StoreSql.ScalarAsync(stores.Compliance, $"SELECT leaf_hash FROM consent_leaves WHERE leaf_index = {appended.LeafIndex}"))!;
        commitment.ShouldBe(LeafHeader.Commit(salt, payload));
        leafHash.ShouldBe(new LeafHeader(appended.LeafIndex, appended.EventId, appended.AppendedAt, commitment).LeafHash());
    }

    [Theory]
    [InlineData("no-such-purpose", "2025-09", "unknown_purpose")]
    [InlineData("care", null, "not_consent_based")]
    [InlineData("research", "1999-01", "unknown_notice")]
    [InlineData("research", null, "notice_required")]
    public async Task Append_ADraftThePoliciesRefuse_IsRefusedWithItsCode_AndNothingOfTheCallIsWritten(string purpose, string? notice, string code)
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-c");
        var subject = Guid.CreateVersion7();
        var before = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_payloads");

        var refusal = await Should.ThrowAsync<ConsentLedgerException>(() => LedgerNodes.AppendAsync(node,
            Draft(subject, partner, "newsletter", ConsentState.Given),
            Draft(subject, partner, purpose, ConsentState.Given, notice)));

        refusal.Code.ShouldBe(code);
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_payloads")).ShouldBe(before);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_states WHERE subject_id = {Id(subject)}")).ShouldBe(0);
    }

    [Fact]
    public async Task Append_ForAnUnknownPartner_IsRefused()
    {
        var node = _nodes.Node();

        var refusal = await Should.ThrowAsync<ConsentLedgerException>(() =>
            LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), "no-such-client\r\n", "research", ConsentState.Given)));

        refusal.Code.ShouldBe("unknown_partner");
        refusal.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task Append_ManyWritersOnTwoNodes_GiveOneGaplessOrder_WithEveryEventOnce()
    {
        var (a, b) = (_nodes.Node(), _nodes.Node());
        var partner = await LedgerNodes.PartnerAsync(a, "ledger-d");
        var before = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < 10; i++)
            {
                var appended = await LedgerNodes.AppendAsync(w % 2 == 0 ? a : b, Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given));
                ids.Add(appended.Single().EventId);
            }

            return ids;
        }));
        var ids = (await Task.WhenAll(writers)).SelectMany(i => i).ToList();

        ids.Distinct().Count().ShouldBe(160);
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(before + 160);
        (await StoreSql.CountAsync(stores.Compliance, "SELECT MAX(leaf_index) + 1 FROM consent_leaves")).ShouldBe(before + 160, "no gap");
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_payloads")).ShouldBe(before + 160);
    }

    [Theory]
    [InlineData("UPDATE consent_leaves SET appended_at = appended_at")]
    [InlineData("DELETE FROM consent_leaves")]
    [InlineData("UPDATE consent_payloads SET payload = payload")]
    [InlineData("UPDATE consent_payloads SET payload = NULL")]
    [InlineData("DELETE FROM consent_payloads")]
    public async Task Tables_RefuseEveryChangeButARedaction(string sql)
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-e");
        await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given));

        var refusal = await Should.ThrowAsync<Exception>(() => StoreSql.ExecuteAsync(stores.Compliance, sql));

        refusal.Message.ShouldContain("consent");
    }

    [Fact]
    public async Task Payloads_AcceptARedaction_ThatNullsThePayloadAndItsSalt()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-f");
        var appended = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given))).Single();

        await StoreSql.ExecuteAsync(stores.Compliance, $"UPDATE consent_payloads SET payload = NULL, salt = NULL WHERE event_id = {Id(appended.EventId)}");

        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_payloads WHERE event_id = {Id(appended.EventId)} AND payload IS NULL AND salt IS NULL")).ShouldBe(1);
    }

    /// <summary>A uuid literal as each store keeps it (EF stores SQLite's as upper-case text).</summary>
    private string Id(Guid id) => stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";

    internal static ConsentEventDraft Draft(Guid subject, string clientId, string purpose, ConsentState state, string? notice = "2025-09") =>
        new(subject, clientId, purpose, state, notice, "fr", ConsentMethods.ConsentScreen, "data-subject", Noon);
}

/// <summary>A store behind a checkpoint it published refuses appends. A class of its own: the checkpoint stays.</summary>
public abstract class LedgerBehindCheckpointTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Append_WhenAPublishedCheckpointIsAheadOfTheStore_IsRefused()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "ledger-g");
        await LedgerNodes.AppendAsync(node, LedgerAppendTests<TStores>.Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given));
        var size = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");
        var time = stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? "0" : "now()";
        await StoreSql.ExecuteAsync(stores.Compliance,
            $"INSERT INTO consent_checkpoints (tree_size, root_hash, signed_at, key_id, jws) VALUES ({size + 5}, {Blob(stores)}, {time}, 'k', 'x')");

        var refusal = await Should.ThrowAsync<ConsentLedgerException>(() =>
            LedgerNodes.AppendAsync(node, LedgerAppendTests<TStores>.Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given)));

        refusal.Code.ShouldBe("ledger_behind_checkpoint");
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(size);
    }

    private static string Blob(StoreFixture stores) =>
        stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? "zeroblob(32)" : "decode(repeat('00', 32), 'hex')";

}

public sealed class LedgerBehindCheckpointTests_Sqlite(SqliteStores stores) : LedgerBehindCheckpointTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerBehindCheckpointTests_Postgres(PostgresStores stores) : LedgerBehindCheckpointTests<PostgresStores>(stores), IClassFixture<PostgresStores>;

public sealed class LedgerAppendTests_Sqlite(SqliteStores stores) : LedgerAppendTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerAppendTests_Postgres(PostgresStores stores) : LedgerAppendTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
