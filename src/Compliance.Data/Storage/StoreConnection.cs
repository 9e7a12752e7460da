namespace Compliance.Data.Storage;

/// <summary>Where one store lives. The connection string may hold a password: never log it.</summary>
public sealed record StoreConnection(Store Store, DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>The lower-case store name used in migration paths and messages.</summary>
    public string StoreName => Store == Store.Compliance ? "compliance" : "vault";

    /// <summary>The lower-case provider name used in migration paths.</summary>
    public string ProviderName => Provider == DatabaseProvider.Sqlite ? "sqlite" : "postgresql";

    /// <summary>The configuration key an operator sets to change this store's connection string.</summary>
    public string SettingName => Store == Store.Compliance ? "Storage:ComplianceConnectionString" : "Storage:VaultConnectionString";

    /// <inheritdoc />
    public override string ToString() => $"{StoreName} ({Provider})";
}
