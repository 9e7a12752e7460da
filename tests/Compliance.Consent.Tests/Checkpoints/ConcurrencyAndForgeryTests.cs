using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Tests.Checkpoints;

/// <summary>
/// Two nodes signing a checkpoint of the same size at once store one; a withdrawal aimed at a partner or purpose the
/// patient never consented to records nothing.
/// </summary>
public abstract class ConcurrencyAndForgeryTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly LedgerNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task SignAsync_TwoNodesAtOnce_StoreOneCheckpointOfThatSize_AndBothAnswerIt()
    {
        var (a, b) = (_nodes.Node(), _nodes.Node());
        var partner = await LedgerNodes.PartnerAsync(a, "sign-race");
        await LedgerNodes.AppendAsync(a, Draft(Guid.CreateVersion7(), partner), Draft(Guid.CreateVersion7(), partner));
        var size = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var signed = await Task.WhenAll(new[] { a, b }.Select(node => Task.Run(() =>
            LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<ILedgerCheckpoints>().SignAsync(CancellationToken.None)))));

        signed.ShouldAllBe(c => c != null && c.TreeSize == size);
        signed[0]!.RootHash.ShouldBe(signed[1]!.RootHash);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_checkpoints WHERE tree_size = {size}")).ShouldBe(1);
    }

    [Theory]
    [InlineData("another-partner", "research")]
    [InlineData("forge-a", "newsletter")]
    [InlineData("forge-a", "no-such-purpose")]
    public async Task Withdraw_WhatThePatientNeverGave_RecordsNothing(string clientId, string purposeId)
    {
        var node = _nodes.Node();
        var partner = await LedgerNodes.PartnerAsync(node, "forge-a");
        await LedgerNodes.PartnerAsync(node, "another-partner");
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, Draft(subject, partner));
        var before = await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves");

        var withdrawn = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPatientConsents>().WithdrawAsync(subject, clientId, purposeId, "fr", CancellationToken.None));

        withdrawn.ShouldBe(0);
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_leaves")).ShouldBe(before);
        var current = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPatientConsents>().CurrentAsync(subject, CancellationToken.None));
        current.ShouldHaveSingleItem().Stands.ShouldBeTrue("the research consent given to forge-a still stands");
    }

    private static ConsentEventDraft Draft(Guid subject, string partner) =>
        new(subject, partner, "research", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow);
}

public sealed class ConcurrencyAndForgeryTests_Sqlite(SqliteStores stores) : ConcurrencyAndForgeryTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ConcurrencyAndForgeryTests_Postgres(PostgresStores stores) : ConcurrencyAndForgeryTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
