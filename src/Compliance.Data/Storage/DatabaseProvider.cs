namespace Compliance.Data.Storage;

/// <summary>The database engines the service runs on.</summary>
public enum DatabaseProvider
{
    /// <summary>Two SQLite files in a data folder: the embedded default for a single node.</summary>
    Sqlite,

    /// <summary>Two PostgreSQL databases: production, several nodes.</summary>
    PostgreSQL,
}
