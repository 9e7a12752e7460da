using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Ledger;

/// <summary>
/// The contexts' PostgreSQL pool does not reset a connection when it goes back (<c>No Reset On Close</c>): that is only
/// safe while nothing the contexts run leaves session state behind. With a pool of one connection, so that every
/// context reuses one backend, the ledger's append (advisory lock), checkpoint and verification (<c>SET LOCAL</c>,
/// a read-only snapshot) leave no advisory lock, no session setting and no open transaction.
/// </summary>
public sealed class PooledConnectionStateTests(PostgresStores stores) : IClassFixture<PostgresStores>, IAsyncLifetime
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task AppendCheckpointAndVerify_OnOneReusedBackend_LeaveNoSessionState()
    {
        var node = _nodes.Node(new Dictionary<string, string?>
        {
            ["Storage:ComplianceConnectionString"] = stores.Settings["Storage:ComplianceConnectionString"] + ";Maximum Pool Size=1",
        });
        var partner = await LedgerNodes.PartnerAsync(node, "pooled-a");
        var before = await StateAsync(node);

        await LedgerNodes.AppendAsync(node, LedgerAppendTests<PostgresStores>.Draft(Guid.CreateVersion7(), partner, "research", ConsentState.Given));
        await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None));
        var verification = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerIntegrity>().VerifyAsync(CancellationToken.None));
        await Should.ThrowAsync<ConsentLedgerException>(() => LedgerNodes.AppendAsync(node,
            LedgerAppendTests<PostgresStores>.Draft(Guid.CreateVersion7(), "no-such-partner", "research", ConsentState.Given)));
        var after = await StateAsync(node);

        verification.Intact.ShouldBeTrue();
        after.Pid.ShouldBe(before.Pid, "one pooled connection: every context above ran on this backend");
        after.AdvisoryLocks.ShouldBe(0);
        after.SessionSettings.ShouldBe(0, "a SET without LOCAL would stay for the next request");
        after.Jit.ShouldBe(before.Jit);
        after.TransactionOpen.ShouldBeFalse();
    }

    private static Task<BackendState> StateAsync(IServiceProvider node) => LedgerNodes.InScopeAsync(node, async s =>
        (await s.GetRequiredService<ComplianceDbContext>().Database.SqlQueryRaw<BackendState>("""
            SELECT pg_backend_pid() AS "Pid",
                   (SELECT count(*)::integer FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS "AdvisoryLocks",
                   (SELECT count(*)::integer FROM pg_settings WHERE source = 'session') AS "SessionSettings",
                   current_setting('jit') AS "Jit",
                   (SELECT backend_xid IS NOT NULL FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS "TransactionOpen"
            """).ToListAsync()).Single());

    private sealed record BackendState(int Pid, int AdvisoryLocks, int SessionSettings, string Jit, bool TransactionOpen);
}
