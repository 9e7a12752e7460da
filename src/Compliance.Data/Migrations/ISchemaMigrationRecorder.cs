namespace Compliance.Data.Migrations;

/// <summary>
/// Told when the start-up gate migrated a store (the embedded SQLite default, or <c>Storage:MigrateOnStart</c>). The
/// audit module implements it to write a <c>schema.migrated</c> row; this module cannot reference the audit module,
/// which depends on it. Called once every store is current, so the compliance store's tables exist.
/// </summary>
public interface ISchemaMigrationRecorder
{
    /// <summary>Records that <paramref name="store"/> (<c>compliance</c> or <c>vault</c>) went from one schema version to another.</summary>
    Task RecordStartupMigrationAsync(string store, int fromVersion, int toVersion, CancellationToken cancellationToken);
}
