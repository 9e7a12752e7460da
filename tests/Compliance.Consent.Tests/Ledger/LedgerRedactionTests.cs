using System.Security.Cryptography;
using System.Text;
using Compliance.Consent.Ledger;
using Compliance.Consent.Merkle;
using Compliance.Oidc.Subjects;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Ledger;

/// <summary>
/// A redaction leaves nothing to guess from: after it, no leaf matches any record the subject could have had (every
/// purpose × state × day), no lookup names the subject, and the other subjects' records are untouched.
/// </summary>
public abstract class LedgerRedactionTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Redact_ThenEveryPurposeStateAndDayOfTheSubject_MatchesNoLeaf()
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "redact-a");
        var (subject, other) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var day = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var mine = await LedgerNodes.AppendAsync(node,
            Draft(subject, partner, "research", ConsentState.Given, day.AddHours(9)),
            Draft(subject, partner, "newsletter", ConsentState.Refused, day.AddHours(9)));
        await LedgerNodes.AppendAsync(node, Draft(subject, partner, "research", ConsentState.Withdrawn, day.AddDays(1), notice: null));
        var recordedByThePartner = (await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentLedger>().AppendAsync(
            [Draft(subject, partner, "newsletter", ConsentState.Given, day.AddDays(2))], new PartnerRequestClaim(partner, "redact-key", new byte[32]), CancellationToken.None))).Single();
        var theirs = (await LedgerNodes.AppendAsync(node, Draft(other, partner, "research", ConsentState.Given, day))).Single();
        var sub = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPairwiseSubjects>().SubjectForAsync(subject, "redact-a.example", CancellationToken.None).AsTask());

        // The attack first, while the salts are there: rebuilding every record the subject could have had (each leaf's
        // event id × every consent purpose × state × language × day, at the times of day used) finds the real ones.
        // This proves the enumeration builds records exactly as the ledger does.
        var before = await LeavesAsync();
        (await MatchesAsync(node, subject, partner, before, day, salted: true)).ShouldBe(4);
        (await CountAsync("consent_outbox", [recordedByThePartner.EventId, .. mine.Select(m => m.EventId)])).ShouldBe(2, "the partner's feed has the subject's given events");
        (await CountAsync("consent_partner_requests", [recordedByThePartner.EventId])).ShouldBe(1);

        var redacted = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerRedaction>().RedactSubjectAsync(subject, CancellationToken.None));

        redacted.ShouldBe(4);
        (await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerRedaction>().RedactSubjectAsync(subject, CancellationToken.None))).ShouldBe(0, "idempotent");
        var leaves = await LeavesAsync();
        leaves.Count.ShouldBe(before.Count, "the leaves stay");
        (await MatchesAsync(node, subject, partner, leaves, day, salted: true)).ShouldBe(0, "no salt is left to open a commitment");
        (await MatchesAsync(node, subject, partner, leaves, day, salted: false)).ShouldBe(0, "nor does an unsalted hash of any guess match");
        foreach (var leaf in leaves.Where(l => mine.Any(m => m.EventId == l.EventId)))
        {
            leaf.Payload.ShouldBeNull();
            leaf.Salt.ShouldBeNull();
        }

        // The leaves' own bytes hold no purpose, state, partner or sub: only an index, an id, a time and hashes.
        var headerBytes = leaves.SelectMany(l => l.Commitment.Concat(l.LeafHash)).ToArray();
        foreach (var word in new[] { "research", "newsletter", "Given", "Refused", partner, sub })
        {
            Contains(headerBytes, Encoding.UTF8.GetBytes(word)).ShouldBeFalse(word);
        }

        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_subject_events WHERE subject_id = {Id(subject)}")).ShouldBe(0);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_states WHERE subject_id = {Id(subject)}")).ShouldBe(0);
        (await CountAsync("consent_outbox", [.. leaves.Where(l => l.Payload is null).Select(l => l.EventId)]))
            .ShouldBe(0, "the partners' feed no longer names the subject, its purposes or its days: nothing left to pull or push");
        (await StoreSql.ScalarAsync(stores.Compliance, $"SELECT request_sha256 FROM consent_partner_requests WHERE event_id = {Id(recordedByThePartner.EventId)}"))
            .ShouldBe(new byte[32], "a partner's request keeps its key (a retry is told it was erased), not the hash that commits to its sub and purpose");
        (await CountAsync("consent_outbox", [theirs.EventId])).ShouldBe(1, "another subject's feed is untouched");
        var kept = leaves.Single(l => l.EventId == theirs.EventId);
        kept.Payload.ShouldNotBeNull("another subject's record is untouched");
        LeafHeader.Commit(kept.Salt!, kept.Payload!).ShouldBe(kept.Commitment);
    }

    /// <summary>How many leaves a guess opens: salted with the leaf's own salt when it still has one, or unsalted.</summary>
    private static async Task<int> MatchesAsync(
        IServiceProvider node, Guid subject, string partner, List<(Guid EventId, byte[] Commitment, byte[] LeafHash, byte[]? Payload, byte[]? Salt)> leaves,
        DateTimeOffset day, bool salted)
    {
        var policies = node.GetRequiredService<PolicySet>();
        var matched = new HashSet<Guid>();
        await using var scope = node.CreateAsyncScope();
        var records = scope.ServiceProvider.GetRequiredService<ConsentRecords>();
        foreach (var leaf in leaves)
        {
            foreach (var purpose in policies.Purposes.Where(p => p.ConsentRequired))
            {
                foreach (var state in Enum.GetValues<ConsentState>())
                {
                    foreach (var language in new[] { "fr", "en" })
                    {
                        for (var d = -3; d <= 3; d++)
                        {
                            foreach (var hour in new[] { 0, 9 })
                            {
                                var notice = state is ConsentState.Given or ConsentState.RenewedGiven or ConsentState.Refused ? purpose.Notices[^1].Version : null;
                                var draft = new ConsentEventDraft(subject, partner, purpose.Id, state, notice, language, ConsentMethods.AccountPage, "data-subject", day.AddDays(d).AddHours(hour));
                                var (guess, _) = await records.BuildAsync(leaf.EventId, draft, CancellationToken.None);
                                var opened = salted
                                    ? leaf.Salt is not null && LeafHeader.Commit(leaf.Salt, guess).AsSpan().SequenceEqual(leaf.Commitment)
                                    : SHA256.HashData(guess).AsSpan().SequenceEqual(leaf.Commitment);
                                if (opened)
                                {
                                    matched.Add(leaf.EventId);
                                }
                            }
                        }
                    }
                }
            }
        }

        return matched.Count;
    }

    private Task<long> CountAsync(string table, IEnumerable<Guid> eventIds) =>
        StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM {table} WHERE event_id IN ({string.Join(", ", eventIds.Select(Id))})");

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private async Task<List<(Guid EventId, byte[] Commitment, byte[] LeafHash, byte[]? Payload, byte[]? Salt)>> LeavesAsync()
    {
        var rows = new List<(Guid, byte[], byte[], byte[]?, byte[]?)>();
        await using var connection = StoreSql.Connect(stores.Compliance);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT l.event_id, l.payload_commitment, l.leaf_hash, p.payload, p.salt FROM consent_leaves l LEFT JOIN consent_payloads p ON p.event_id = l.event_id ORDER BY l.leaf_index";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((Guid.Parse(reader.GetValue(0).ToString()!), (byte[])reader[1], (byte[])reader[2], reader.IsDBNull(3) ? null : (byte[])reader[3], reader.IsDBNull(4) ? null : (byte[])reader[4]));
        }

        return rows;
    }

    private string Id(Guid id) => stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";

    private static ConsentEventDraft Draft(Guid subject, string clientId, string purpose, ConsentState state, DateTimeOffset at, string? notice = "2025-09") =>
        new(subject, clientId, purpose, state, notice, "en", ConsentMethods.AccountPage, "data-subject", at);
}

public sealed class LedgerRedactionTests_Sqlite(SqliteStores stores) : LedgerRedactionTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerRedactionTests_Postgres(PostgresStores stores) : LedgerRedactionTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
