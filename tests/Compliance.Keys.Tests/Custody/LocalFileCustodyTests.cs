using Compliance.Testing;

namespace Compliance.Keys.Tests.Custody;

/// <summary>The key-custody suite on the local-file KEK (the embedded default).</summary>
public abstract class LocalFileCustodyTests<TStores>(TStores stores) : KeyCustodyContract<TStores>(stores)
    where TStores : StoreFixture
{
    protected override Dictionary<string, string?> KekSettings(string name, string section) => new()
    {
        [$"{section}:Kek"] = "local",
        [$"{section}:LocalKekPath"] = Path.Combine(Directory, $"{name}.key"),
    };

    // Created on first use by a node (the embedded default's rule); the suite's stores start empty.
    protected override Task CreateKekAsync(string name) => Task.CompletedTask;
}

public sealed class LocalFileCustodyTests_Sqlite(SqliteStores stores) : LocalFileCustodyTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LocalFileCustodyTests_Postgres(PostgresStores stores) : LocalFileCustodyTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
