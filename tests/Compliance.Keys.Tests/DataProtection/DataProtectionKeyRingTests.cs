using System.Security.Cryptography;
using System.Xml.Linq;
using Compliance.Audit.Trail;
using Compliance.Keys.DataProtection;
using Compliance.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Keys.Tests.DataProtection;

/// <summary>Session cookies and interaction tokens must survive a hop between nodes, and their keys must not lie in clear.</summary>
public abstract class DataProtectionKeyRingTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly KeysNodes _nodes = new(stores);

    // Each test starts from an empty ring: some tests tamper with the stored keys.
    public Task InitializeAsync() => _nodes.WithStoreAsync(async db =>
        await db.Set<DataProtectionKey>().ExecuteDeleteAsync() + await db.Set<AuditEvent>().ExecuteDeleteAsync());

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
    public async Task StoredSecret_IsBoundToItsKeysIdAndDates()
    {
        _nodes.Node().GetDataProtectionProvider().CreateProtector("test").Protect("x");

        var stored = await _nodes.WithStoreAsync(db => db.Set<DataProtectionKey>().Select(k => k.Xml).ToListAsync());

        foreach (var key in stored.Select(XElement.Parse))
        {
            var wrapped = key.Descendants("kekWrapped").ShouldHaveSingleItem();
            ((string?)wrapped.Attribute("boundTo")).ShouldBe(
                $"{key.Attribute("id")!.Value}|{key.Element("creationDate")!.Value}|{key.Element("activationDate")!.Value}|{key.Element("expirationDate")!.Value}");
        }
    }

    [Fact]
    public async Task KeyWhoseExpiryWasEditedInTheStore_IsLeftOut_ItsCookiesNoLongerOpen()
    {
        var node = _nodes.Node();
        var protectedText = node.GetDataProtectionProvider().CreateProtector("test").Protect("a session");
        var keyId = node.GetRequiredService<IKeyManager>().GetAllKeys().Single(k => k.ExpirationDate > DateTimeOffset.UtcNow && k.ActivationDate <= DateTimeOffset.UtcNow).KeyId;

        // An attacker with write access to the database stretches a key's life.
        await EditAsync(keyId, key => key.Element("expirationDate")!.Value = DateTimeOffset.UtcNow.AddYears(5).ToString("O"));

        var fresh = _nodes.Node().GetDataProtectionProvider().CreateProtector("test");
        Should.Throw<CryptographicException>(() => fresh.Unprotect(protectedText));
    }

    [Fact]
    public async Task SecretMovedIntoAnotherKeysRecord_DoesNotOpenThere_WithOrWithoutItsBinding()
    {
        var node = _nodes.Node();
        var manager = node.GetRequiredService<IKeyManager>();
        var first = manager.CreateNewKey(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30));
        var second = manager.CreateNewKey(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30));
        var moved = await _nodes.WithStoreAsync(async db => XElement.Parse((await db.Set<DataProtectionKey>().SingleAsync(k => k.FriendlyName == "key-" + first.KeyId.ToString("D"))).Xml)
            .Descendants("kekWrapped").Single());
        string? secondBinding = null;

        // As is: its binding names the first key, so the second key's record is left out.
        await EditAsync(second.KeyId, key =>
        {
            var wrapped = key.Descendants("kekWrapped").Single();
            secondBinding = (string?)wrapped.Attribute("boundTo");
            wrapped.ReplaceWith(new XElement(moved));
        });
        (await ReadableKeysAsync()).ShouldNotContain(second.KeyId);

        // Relabelled to the second key: the sealed label still names the first, so it fails to open.
        await EditAsync(second.KeyId, key => key.Descendants("kekWrapped").Single().SetAttributeValue("boundTo", secondBinding));
        (await ReadableKeysAsync()).ShouldNotContain(second.KeyId);
        (await ReadableKeysAsync()).ShouldContain(first.KeyId, "the first key is untouched");
    }

    /// <summary>The keys a fresh node can use: listed in its ring and whose secret it could decrypt.</summary>
    private Task<List<Guid>> ReadableKeysAsync()
    {
        var keys = _nodes.Node().GetRequiredService<IKeyManager>().GetAllKeys();
        return Task.FromResult(keys.Where(k =>
        {
            try
            {
                _ = k.Descriptor;
                return true;
            }
            catch (Exception e) when (e is CryptographicException or KeyCustodyException or InvalidOperationException)
            {
                return false;
            }
        }).Select(k => k.KeyId).ToList());
    }

    private Task<int> EditAsync(Guid keyId, Action<XElement> edit) => _nodes.WithStoreAsync(async db =>
    {
        var row = await db.Set<DataProtectionKey>().SingleAsync(k => k.FriendlyName == "key-" + keyId.ToString("D"));
        var key = XElement.Parse(row.Xml);
        edit(key);
        row.Xml = key.ToString(SaveOptions.DisableFormatting);
        return await db.SaveChangesAsync();
    });

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
