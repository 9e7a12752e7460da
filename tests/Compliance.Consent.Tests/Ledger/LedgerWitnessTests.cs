using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Ledger;

/// <summary>
/// A database restored from a backup older than the last checkpoint this node signed refuses appends (the witness in
/// the data folder remembers the checkpoint), until an operator accepts the store as it is.
/// </summary>
public sealed class LedgerWitnessTests : IAsyncLifetime
{
    private readonly SqliteStores _stores = new();

    public Task InitializeAsync() => _stores.InitializeAsync();

    public Task DisposeAsync() => _stores.DisposeAsync();

    [Fact]
    public async Task RestoredOlderBackup_RefusesAppends_UntilAnOperatorAcceptsTheStore()
    {
        var database = new SqliteConnectionStringBuilder(_stores.Compliance.ConnectionString).DataSource;
        var backup = database + ".backup";
        var nodes = new LedgerNodes(_stores);
        var node = nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "witness-a");
        await LedgerNodes.AppendAsync(node, Draft(partner), Draft(partner));
        await StoreSql.ExecuteAsync(_stores.Compliance, $"VACUUM INTO '{backup}'");
        await LedgerNodes.AppendAsync(node, Draft(partner), Draft(partner), Draft(partner));
        var signed = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None));
        signed!.TreeSize.ShouldBe(5);
        File.Exists(Path.Combine(_stores.DataDirectory, "ledger-witness.json")).ShouldBeTrue();
        await nodes.DisposeAsync();

        // The operator restores last night's backup: two events, no checkpoint.
        SqliteConnection.ClearAllPools();
        File.Copy(backup, database, overwrite: true);
        File.Delete(database + "-wal");
        File.Delete(database + "-shm");

        var restored = new LedgerNodes(_stores);
        var again = restored.Node();
        var refusal = await Should.ThrowAsync<ConsentLedgerException>(() => LedgerNodes.AppendAsync(again, Draft(partner)));
        refusal.Code.ShouldBe("ledger_behind_checkpoint");
        refusal.Message.ShouldContain("restored");
        (await StoreSql.CountAsync(_stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(2);

        var (storeSize, recorded) = await LedgerNodes.InScopeAsync(again, s => s.GetRequiredService<ILedgerCheckpoints>().AcceptStoreAsync(CancellationToken.None));
        storeSize.ShouldBe(0);
        recorded.ShouldBe(5);
        (await LedgerNodes.AppendAsync(again, Draft(partner))).Single().LeafIndex.ShouldBe(2);
        (await AuditRows.ReadAsync(_stores.Compliance, Compliance.Audit.Trail.AuditEventTypes.LedgerReconciled.Id)).Count.ShouldBe(1);
        await restored.DisposeAsync();
    }

    private static ConsentEventDraft Draft(string partner) =>
        new(Guid.CreateVersion7(), partner, "research", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow);
}
