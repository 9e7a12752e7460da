using Compliance.Audit.Trail;
using Compliance.Keys.DataProtection;
using Compliance.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Keys.Tests.DataProtection;

/// <summary>Session cookies and interaction tokens must survive a hop between nodes, and their keys must not lie in clear.</summary>
public abstract class DataProtectionKeyRingTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly KeysNodes _nodes = new(stores);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public void Protect_OnOneNode_UnprotectsOnAnother()
    {
        var first = _nodes.Node().GetDataProtectionProvider().CreateProtector("test");
        var protectedText = first.Protect("a session");

        var second = _nodes.Node().GetDataProtectionProvider().CreateProtector("test");

        second.Unprotect(protectedText).ShouldBe("a session");
    }

    [Fact]
    public async Task StoredKey_IsWrappedByTheKek_NotInClear()
    {
        _nodes.Node().GetDataProtectionProvider().CreateProtector("test").Protect("x");

        var stored = await _nodes.WithStoreAsync(db => db.Set<DataProtectionKey>().Select(k => k.Xml).ToListAsync());

        stored.ShouldNotBeEmpty();
        stored.ShouldAllBe(xml => xml.Contains("kekWrapped") && !xml.Contains("<value>"));
    }

    [Fact]
    public async Task NewKey_IsAuditedByItsIdAndDates_NeverItsMaterial()
    {
        _nodes.Node().GetDataProtectionProvider().CreateProtector("test").Protect("x");
        var stored = await _nodes.WithStoreAsync(db => db.Set<DataProtectionKey>().Select(k => new { k.FriendlyName, k.Xml }).ToListAsync());

        var rows = await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.DataProtectionKeyCreated.Id);

        rows.Count.ShouldBe(stored.Count, "one row per key, saved with it");
        foreach (var row in rows)
        {
            row.Name.ShouldBe("keys.data_protection_key_created");
            row.Actor.ShouldBe(AuditActor.Server().Name, "the node that created the key");
            row.SubjectId.ShouldBeNull();
            row.ShouldHoldOnlyIdsAndEnumeratedValues();
            var details = System.Text.Json.JsonDocument.Parse(row.Details!).RootElement;
            var keyId = details.GetProperty("key_id").GetString()!;
            stored.ShouldContain(k => k.FriendlyName == "key-" + keyId);
            (details.GetProperty("expires_at").GetInt64() - details.GetProperty("activates_at").GetInt64()).ShouldBeGreaterThan(80 * 86_400);
            row.AllText.ShouldNotContain("kekWrapped");
            row.AllText.ShouldNotContain("<");
        }
    }

    [Fact]
    public async Task NodeWithAnotherKek_CannotReadTheRing()
    {
        var protectedText = _nodes.Node().GetDataProtectionProvider().CreateProtector("test").Protect("a session");
        var stranger = _nodes.Node(Path.Combine(_nodes.Directory, "other", "kek.key")).GetDataProtectionProvider().CreateProtector("test");

        Should.Throw<Exception>(() => stranger.Unprotect(protectedText));
        await Task.CompletedTask;
    }
}

public sealed class DataProtectionKeyRingTests_Sqlite(SqliteStores stores) : DataProtectionKeyRingTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class DataProtectionKeyRingTests_Postgres(PostgresStores stores) : DataProtectionKeyRingTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
