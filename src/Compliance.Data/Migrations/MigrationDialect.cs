using System.Data.Common;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Compliance.Data.Migrations;

/// <summary>What differs between providers when running migrations: connections, the history table and the lock.</summary>
internal abstract class MigrationDialect
{
    public static MigrationDialect For(DatabaseProvider provider) =>
        provider == DatabaseProvider.PostgreSQL ? new PostgresDialect() : new SqliteDialect();

    public abstract DbConnection CreateConnection(string connectionString);

    public abstract string CreateHistoryTableSql { get; }

    public abstract string HistoryTableExistsSql { get; }

    /// <summary>Takes a lock that only one migrator of this database holds at a time, for the life of the connection.</summary>
    public abstract Task AcquireLockAsync(DbConnection connection, CancellationToken cancellationToken);

    public abstract Task ReleaseLockAsync(DbConnection connection, CancellationToken cancellationToken);

    public virtual Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class PostgresDialect : MigrationDialect
    {
        // One fixed key: advisory locks are scoped to the current database, so the two stores never contend.
        private const long LockKey = 0x436F6D706C69L;

        public override DbConnection CreateConnection(string connectionString) => new NpgsqlConnection(connectionString);

        public override string CreateHistoryTableSql =>
            """
            CREATE TABLE IF NOT EXISTS schema_history (
                version integer NOT NULL PRIMARY KEY,
                name character varying(200) NOT NULL,
                checksum character(64) NOT NULL,
                applied_at timestamp with time zone NOT NULL,
                applied_by character varying(200) NOT NULL,
                execution_ms bigint NOT NULL
            );
            """;

        public override string HistoryTableExistsSql =>
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_history'";

        public override async Task AcquireLockAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT pg_advisory_lock({LockKey})";
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public override async Task ReleaseLockAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT pg_advisory_unlock({LockKey})";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private sealed class SqliteDialect : MigrationDialect
    {
        public override DbConnection CreateConnection(string connectionString)
        {
            SqliteDatabaseFile.EnsureOwnerOnly(connectionString);
            return new SqliteConnection(connectionString);
        }

        public override string CreateHistoryTableSql =>
            """
            CREATE TABLE IF NOT EXISTS schema_history (
                version INTEGER NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at TEXT NOT NULL,
                applied_by TEXT NOT NULL,
                execution_ms INTEGER NOT NULL
            );
            """;

        public override string HistoryTableExistsSql =>
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_history'";

        // SQLite has one writer at a time: each migration runs in BEGIN IMMEDIATE and re-checks the history inside it.
        public override Task AcquireLockAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task ReleaseLockAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

        public override async Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            // WAL lets readers (health checks, other nodes' reads) proceed while a writer works; it is persistent.
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
