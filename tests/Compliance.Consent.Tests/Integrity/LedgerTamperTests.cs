using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Merkle;
using Compliance.Consent.Verification;
using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Respawn;
using Respawn.Graph;

namespace Compliance.Consent.Tests.Integrity;

/// <summary>
/// Tampering by editing the tables directly, on a connection that gets round the triggers (PostgreSQL's replica
/// session role; SQLite's triggers dropped), as someone with the database but without key custody would: for each kind
/// of change, <c>ILedgerIntegrity</c> names the exact event. Each test starts from an empty ledger of ten events under
/// two signed checkpoints.
/// </summary>
public abstract class LedgerTamperTests : IAsyncLifetime
{
    private LedgerNodes _nodes = null!;
    private IServiceProvider _node = null!;
    private List<AppendedConsentEvent> _events = [];

    protected StoreFixture Stores { get; set; } = null!;

    /// <summary>The ten events appended, in index order.</summary>
    protected IReadOnlyList<AppendedConsentEvent> Events => _events;

    /// <summary>The class's stores, with an empty ledger.</summary>
    protected abstract Task<StoreFixture> FreshStoresAsync();

    /// <summary>Runs SQL on a connection the ledger's triggers do not stop.</summary>
    protected abstract Task TamperAsync(string sql);

    protected abstract string Bytes(byte[] value);

    protected string Id(Guid id) => Stores.Provider == DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";

    public async Task InitializeAsync()
    {
        Stores = await FreshStoresAsync();
        _nodes = new LedgerNodes(Stores);
        _node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(_node, "tamper-a");
        for (var i = 0; i < 10; i++)
        {
            _events.AddRange(await LedgerNodes.AppendAsync(_node, new ConsentEventDraft(
                Guid.CreateVersion7(), partner, i % 2 == 0 ? "research" : "newsletter", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject",
                DateTimeOffset.UtcNow)));
            if (i == 5)
            {
                await SignAsync();
            }
        }

        await SignAsync();
        var untouched = await VerifyAsync();
        untouched.Intact.ShouldBeTrue($"the untouched ledger verifies: {string.Join(" | ", untouched.Findings)}");
    }

    public virtual async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task ChangedPayload_IsNamed()
    {
        var target = _events[3];

        await TamperAsync($"UPDATE consent_payloads SET payload = {Bytes("{\"state\":\"dpv:ConsentRefused\"}"u8.ToArray())} WHERE event_id = {Id(target.EventId)}");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Changed && f.Index == 3 && f.EventId == target.EventId);
    }

    [Fact]
    public async Task ChangedHeader_WithItsLeafHashRecomputed_IsNamed()
    {
        var target = _events[7];
        var commitment = (byte[])(await StoreSql.ScalarAsync(Stores.Compliance, $"SELECT payload_commitment FROM consent_leaves WHERE leaf_index = 7"))!;
        var earlier = LedgerAppender.Stored(target.AppendedAt.AddDays(-30));
        var forged = new LeafHeader(7, target.EventId, earlier, commitment).LeafHash();
        var time = Stores.Provider == DatabaseProvider.Sqlite
            ? new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter().ConvertToProvider(earlier)!.ToString()
            : $"'{earlier.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'";

        await TamperAsync($"UPDATE consent_leaves SET appended_at = {time}, leaf_hash = {Bytes(forged)} WHERE leaf_index = 7");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Changed && f.Index == 7 && f.EventId == target.EventId);
        result.Findings.ShouldContain(f => f.Kind == TamperKind.CheckpointMismatch, "the signed root no longer matches either");
    }

    [Fact]
    public async Task DeletedRow_IsNamed()
    {
        var target = _events[4];

        await TamperAsync($"DELETE FROM consent_leaves WHERE leaf_index = 4");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Deleted && f.EventId == target.EventId);
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Deleted && f.Index == 4);
    }

    [Fact]
    public async Task DeletedTail_IsNamedByTheCheckpointThatCoveredIt()
    {
        var target = _events[9];

        await TamperAsync($"DELETE FROM consent_leaves WHERE leaf_index = 9; DELETE FROM consent_payloads WHERE event_id = {Id(target.EventId)}");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Deleted && f.Index == 9);
    }

    [Fact]
    public async Task ReorderedRows_AreNamed()
    {
        var (second, fifth) = (_events[2], _events[5]);

        await TamperAsync("UPDATE consent_leaves SET leaf_index = 1000 WHERE leaf_index = 2; UPDATE consent_leaves SET leaf_index = 2 WHERE leaf_index = 5; "
            + "UPDATE consent_leaves SET leaf_index = 5 WHERE leaf_index = 1000");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Reordered && f.EventId == second.EventId);
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Reordered && f.EventId == fifth.EventId);
    }

    [Fact]
    public async Task InsertedRow_IsNamed()
    {
        var forgedId = Guid.CreateVersion7();
        var salt = new byte[32];
        var payload = "{\"state\":\"dpv:ConsentGiven\"}"u8.ToArray();
        var appendedAt = LedgerAppender.Stored(DateTimeOffset.UtcNow);
        var header = new LeafHeader(10, forgedId, appendedAt, LeafHeader.Commit(salt, payload));
        var time = Stores.Provider == DatabaseProvider.Sqlite
            ? new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter().ConvertToProvider(appendedAt)!.ToString()
            : $"'{appendedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'";

        await TamperAsync(
            $"INSERT INTO consent_leaves (leaf_index, event_id, appended_at, payload_commitment, leaf_hash, seal) VALUES (10, {Id(forgedId)}, {time}, "
            + $"{Bytes(header.PayloadCommitment)}, {Bytes(header.LeafHash())}, {Bytes(new byte[32])}); "
            + $"INSERT INTO consent_payloads (event_id, payload, salt) VALUES ({Id(forgedId)}, {Bytes(payload)}, {Bytes(salt)})");

        var result = await VerifyAsync();
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Inserted && f.Index == 10 && f.EventId == forgedId);
    }

    [Fact]
    public async Task RedactionDoneRight_IsNoFinding()
    {
        await TamperAsync($"UPDATE consent_payloads SET payload = NULL, salt = NULL WHERE event_id = {Id(_events[1].EventId)}");

        var result = await VerifyAsync();

        result.Intact.ShouldBeTrue();
        result.Redacted.ShouldBe(1);
    }

    private Task<SignedCheckpoint?> SignAsync() =>
        LedgerNodes.InScopeAsync(_node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None));

    protected Task<LedgerVerification> VerifyAsync() =>
        LedgerNodes.InScopeAsync(_node, s => s.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None));
}

/// <summary>SQLite: a fresh copy of the template per test (Respawn has no SQLite adapter); the triggers are dropped to tamper.</summary>
public sealed class LedgerTamperTests_Sqlite : LedgerTamperTests
{
    protected override async Task<StoreFixture> FreshStoresAsync()
    {
        var stores = new SqliteStores();
        await stores.InitializeAsync();
        return stores;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Stores.DisposeAsync();
    }

    protected override Task TamperAsync(string sql) => StoreSql.ExecuteAsync(Stores.Compliance,
        "DROP TRIGGER consent_leaves_no_update; DROP TRIGGER consent_leaves_no_delete; DROP TRIGGER consent_payloads_redaction_only; "
        + "DROP TRIGGER consent_payloads_no_delete; " + sql);

    protected override string Bytes(byte[] value) => $"X'{Convert.ToHexString(value)}'";
}

/// <summary>PostgreSQL: one database for the class, reset by Respawn before each test; tampering uses the replica session role.</summary>
public sealed class LedgerTamperTests_Postgres(PostgresStores stores) : LedgerTamperTests, IClassFixture<PostgresStores>
{
    protected override async Task<StoreFixture> FreshStoresAsync()
    {
        await using var connection = new NpgsqlConnection(stores.Compliance.ConnectionString);
        await connection.OpenAsync();

        // The ledger's own triggers refuse deletes: Respawn resets on a session that does not fire them.
        await using (var replica = new NpgsqlCommand("SET session_replication_role = replica", connection))
        {
            await replica.ExecuteNonQueryAsync();
        }

        var respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToInclude = [new Table("consent_leaves"), new Table("consent_payloads"), new Table("consent_checkpoints"),
                new Table("consent_subject_events"), new Table("consent_states"), new Table("consent_outbox")],
        });
        await respawner.ResetAsync(connection);
        return stores;
    }

    protected override Task TamperAsync(string sql) => StoreSql.ExecuteAsync(Stores.Compliance, "SET session_replication_role = replica; " + sql);

    protected override string Bytes(byte[] value) => $"decode('{Convert.ToHexString(value)}', 'hex')";

    [Fact]
    public async Task AppendTimeSetToInfinity_IsNamedNotAnException()
    {
        // PostgreSQL's timestamps reach 'infinity', beyond anything .NET holds: the row is reported, the rest verified.
        var target = Events[4];

        await TamperAsync("UPDATE consent_leaves SET appended_at = 'infinity' WHERE leaf_index = 4");

        var result = await VerifyAsync();
        result.Leaves.ShouldBe(10);
        result.Findings.ShouldContain(f => f.Kind == TamperKind.Changed && f.Index == 4 && f.EventId == target.EventId);
    }
}
