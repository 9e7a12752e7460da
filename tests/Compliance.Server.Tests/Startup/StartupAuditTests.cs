using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Migrations;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// What a node does by itself at start-up leaves audit rows naming it: the schema migrations it applies (the SQLite
/// default, or <c>Storage:MigrateOnStart</c>) and the signing keys it creates.
/// </summary>
public abstract class StartupAuditTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("compliance-audit-start-").FullName;
    private Dictionary<string, string?> _settings = [];

    private static string ServerActor => AuditActor.Server().Name;

    public async Task InitializeAsync()
    {
        _settings = provider == DatabaseProvider.PostgreSQL
            ? await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL)
            : new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite" };
        _settings["Storage:DataDirectory"] = _dataDirectory;
        _settings["Storage:MigrateOnStart"] = "true";
    }

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Start_OnEmptyStores_RecordsEachStoresMigrationOnceNamingTheServer()
    {
        using (var first = new ComplianceFactory(_settings))
        {
            (await first.CreateClient().GetAsync("/.well-known/openid-configuration")).EnsureSuccessStatusCode();
        }

        using (var second = new ComplianceFactory(_settings))
        {
            (await second.CreateClient().GetAsync("/.well-known/openid-configuration")).EnsureSuccessStatusCode();
        }

        var rows = await AuditRows.ReadAsync(Compliance(), AuditEventTypes.SchemaMigrated.Id);

        rows.Count.ShouldBe(2, "one per store, and none for the second start, which had nothing to apply");
        foreach (var row in rows)
        {
            row.Actor.ShouldBe(ServerActor);
            row.ShouldHoldOnlyIdsAndEnumeratedValues();
        }

        var details = rows.Select(r => JsonDocument.Parse(r.Details!).RootElement).ToList();
        details.Select(d => d.GetProperty("store").GetString()).ShouldBe(["compliance", "vault"], ignoreOrder: true);
        details.ShouldAllBe(d => d.GetProperty("from").GetInt32() == 0 && d.GetProperty("trigger").GetString() == "start-up");
        details.Single(d => d.GetProperty("store").GetString() == "compliance").GetProperty("to").GetInt32()
            .ShouldBe(MigrationCatalog.For("compliance", provider.ToString().ToLowerInvariant()).Max(m => m.Version));
    }

    [Fact]
    public async Task Start_CreatingSigningKeys_RecordsEachKeyByItsPublicKeyIdOnly()
    {
        string jwks;
        using (var factory = new ComplianceFactory(_settings))
        {
            jwks = await factory.CreateClient().GetStringAsync("/.well-known/jwks.json");
        }

        var rows = await AuditRows.ReadAsync(Compliance(), AuditEventTypes.SigningKeyCreated.Id);

        rows.Count.ShouldBeGreaterThanOrEqualTo(2);
        var audited = new List<string>();
        foreach (var row in rows)
        {
            row.Actor.ShouldBe(ServerActor);
            row.ShouldHoldOnlyIdsAndEnumeratedValues();
            var details = JsonDocument.Parse(row.Details!).RootElement;
            details.EnumerateObject().Select(p => p.Name).ShouldBe(["algorithm", "kid", "generation", "activates_at"]);
            audited.Add(details.GetProperty("kid").GetString()!);
        }

        var published = JsonDocument.Parse(jwks).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
        published.ShouldAllBe(kid => audited.Contains(kid));
    }

    private StoreConnection Compliance()
    {
        var options = new StorageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().GetSection(StorageOptions.SectionName).Bind(options);
        return options.ConnectionFor(Store.Compliance);
    }
}

public sealed class StartupAuditTests_Sqlite() : StartupAuditTests(DatabaseProvider.Sqlite);

public sealed class StartupAuditTests_Postgres() : StartupAuditTests(DatabaseProvider.PostgreSQL);
