namespace Compliance.Data.Storage;

/// <summary>
/// Where the two stores live. Bound from the <c>Storage</c> section and validated at start-up.
/// </summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Storage";

    /// <summary>
    /// <c>Sqlite</c> (default: the embedded default, two files in <see cref="DataDirectory"/>) or <c>PostgreSQL</c>.
    /// </summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>
    /// The folder of the two SQLite files. Default: <c>$XDG_DATA_HOME/compliance</c>, that is
    /// <c>~/.local/share/compliance</c> on Linux. Created with owner-only permissions (0700); it must be writable, and
    /// a folder that other users may read or write is refused. The SQLite files are created owner-only (0600).
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The pseudonymous store. Required for PostgreSQL; for SQLite it defaults to <c>compliance.db</c> in the data folder.
    /// </summary>
    public string? ComplianceConnectionString { get; set; }

    /// <summary>
    /// The civil-identity vault. Required for PostgreSQL, and must name another database than the compliance store;
    /// for SQLite it defaults to <c>vault.db</c> in the data folder.
    /// </summary>
    public string? VaultConnectionString { get; set; }

    /// <summary>
    /// Apply pending migrations when the host starts. Default: <c>true</c> on SQLite, <c>false</c> on PostgreSQL,
    /// where the host refuses to start on an unmigrated or outdated schema and <c>compliance migrate</c> is the way.
    /// </summary>
    public bool? MigrateOnStart { get; set; }

    /// <summary>The provider, once <see cref="Provider"/> has been validated.</summary>
    public DatabaseProvider ParsedProvider =>
        Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var provider) && Enum.IsDefined(provider)
            ? provider
            : throw new InvalidOperationException($"Unknown storage provider '{Provider}'.");

    /// <summary>Whether start-up applies migrations, after defaults.</summary>
    public bool ShouldMigrateOnStart => MigrateOnStart ?? ParsedProvider == DatabaseProvider.Sqlite;

    /// <summary>The data folder, after defaults, as a full path.</summary>
    public string ResolveDataDirectory()
    {
        if (!string.IsNullOrWhiteSpace(DataDirectory))
        {
            return Path.GetFullPath(DataDirectory);
        }

        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrWhiteSpace(dataHome))
        {
            dataHome = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        }

        return Path.GetFullPath(Path.Combine(dataHome, "compliance"));
    }

    /// <summary>The connection of one store, after defaults.</summary>
    public StoreConnection ConnectionFor(Store store)
    {
        var provider = ParsedProvider;
        var configured = store == Store.Compliance ? ComplianceConnectionString : VaultConnectionString;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new StoreConnection(store, provider, configured);
        }

        if (provider == DatabaseProvider.PostgreSQL)
        {
            throw new InvalidOperationException($"No connection string for the {store} store.");
        }

        var file = Path.Combine(ResolveDataDirectory(), store == Store.Compliance ? "compliance.db" : "vault.db");
        return new StoreConnection(store, provider, $"Data Source={file};Foreign Keys=True;Pooling=True");
    }
}
