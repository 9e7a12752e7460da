using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Compliance.Data.Storage;
using Compliance.Migrations;
using Microsoft.Extensions.Logging;

namespace Compliance.Data.Migrations;

/// <summary>
/// Applies a store's versioned SQL migrations and records each in <c>schema_history</c>, in the same transaction as
/// its script, so that a crash leaves either the whole migration or none of it. Several nodes may run it at once:
/// PostgreSQL serialises them with an advisory lock, SQLite with its single writer; each migration is re-checked
/// under the lock, so it runs once.
/// </summary>
public sealed class SchemaMigrator
{
    private readonly StoreConnection _store;
    private readonly IReadOnlyList<MigrationScript> _migrations;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MigrationDialect _dialect;

    public SchemaMigrator(StoreConnection store, TimeProvider time, ILogger<SchemaMigrator> logger)
        : this(store, MigrationCatalog.For(store.StoreName, store.ProviderName), time, logger)
    {
    }

    public SchemaMigrator(StoreConnection store, IReadOnlyList<MigrationScript> migrations, TimeProvider time, ILogger<SchemaMigrator> logger)
    {
        _store = store;
        _migrations = migrations;
        _time = time;
        _logger = logger;
        _dialect = MigrationDialect.For(store.Provider);
    }

    /// <summary>The latest version this build knows.</summary>
    public int TargetVersion => _migrations.Count == 0 ? 0 : _migrations[^1].Version;

    /// <summary>Compares the store with this build without changing anything.</summary>
    public async Task<SchemaStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadStatusAsync(connection, transaction: null, cancellationToken);
    }

    /// <summary>
    /// Applies the pending migrations and returns the resulting status. Refuses, changing nothing, when the store
    /// holds versions this build does not know or whose scripts were altered.
    /// </summary>
    public async Task<SchemaStatus> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await _dialect.PrepareAsync(connection, cancellationToken);
        await _dialect.AcquireLockAsync(connection, cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, _dialect.CreateHistoryTableSql, cancellationToken);
            var status = await ReadStatusAsync(connection, null, cancellationToken);
            EnsureNotDiverged(status);

            foreach (var migration in _migrations.Where(m => status.Pending.Contains(m.Version)))
            {
                await ApplyAsync(connection, migration, cancellationToken);
            }

            return await ReadStatusAsync(connection, null, cancellationToken);
        }
        finally
        {
            if (connection.State == ConnectionState.Open)
            {
                await _dialect.ReleaseLockAsync(connection, CancellationToken.None);
            }
        }
    }

    /// <summary>Throws <see cref="SchemaNotReadyException"/> unless the store is exactly at this build's version.</summary>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(cancellationToken);
        EnsureNotDiverged(status);
        if (status.Pending.Count > 0)
        {
            throw new SchemaNotReadyException(
                $"The {_store} schema is at version {status.CurrentVersion} but this build needs version {TargetVersion} "
                + $"({status.Pending.Count} pending migration(s)). Run `compliance migrate`, or set Storage:MigrateOnStart=true.");
        }
    }

    private void EnsureNotDiverged(SchemaStatus status)
    {
        if (status.Altered.Count > 0)
        {
            throw new SchemaNotReadyException(
                $"The {_store} schema history records migration(s) {Join(status.Altered)} with another checksum than this build's scripts. "
                + "A shipped migration was edited; restore it and add a new migration instead.");
        }

        if (status.Unknown.Count > 0)
        {
            throw new SchemaNotReadyException(
                $"The {_store} schema has migration(s) {Join(status.Unknown)} that this build does not know: "
                + "the database is newer than this build. Deploy the newer build.");
        }
    }

    private async Task ApplyAsync(DbConnection connection, MigrationScript migration, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Another node may have applied it between our status read and this transaction.
        if (await IsRecordedAsync(connection, transaction, migration.Version, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return;
        }

        await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
        await using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText =
                "INSERT INTO schema_history (version, name, checksum, applied_at, applied_by, execution_ms) "
                + "VALUES (@version, @name, @checksum, @applied_at, @applied_by, @execution_ms)";
            AddParameter(record, "@version", migration.Version);
            AddParameter(record, "@name", migration.Name);
            AddParameter(record, "@checksum", migration.Checksum);
            AddParameter(record, "@applied_at", _store.Provider == DatabaseProvider.Sqlite
                ? _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)
                : _time.GetUtcNow());
            AddParameter(record, "@applied_by", Truncate(Environment.MachineName, 200));
            AddParameter(record, "@execution_ms", stopwatch.ElapsedMilliseconds);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        DataLog.MigrationApplied(_logger, _store.StoreName, migration.Version, migration.Name, stopwatch.ElapsedMilliseconds);
    }

    private async Task<SchemaStatus> ReadStatusAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<int, string>();
        await using (var exists = connection.CreateCommand())
        {
            exists.Transaction = transaction;
            exists.CommandText = _dialect.HistoryTableExistsSql;
            var count = Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (count > 0)
            {
                await using var read = connection.CreateCommand();
                read.Transaction = transaction;
                read.CommandText = "SELECT version, checksum FROM schema_history ORDER BY version";
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    recorded[reader.GetInt32(0)] = reader.GetString(1).Trim();
                }
            }
        }

        var known = _migrations.ToDictionary(m => m.Version);
        return new SchemaStatus(
            Applied: [.. recorded.Keys.Order()],
            Pending: [.. _migrations.Where(m => !recorded.ContainsKey(m.Version)).Select(m => m.Version)],
            Unknown: [.. recorded.Keys.Where(v => !known.ContainsKey(v)).Order()],
            Altered: [.. recorded.Where(r => known.TryGetValue(r.Key, out var m) && m.Checksum != r.Value).Select(r => r.Key).Order()]);
    }

    private static async Task<bool> IsRecordedAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM schema_history WHERE version = @version";
        AddParameter(command, "@version", version);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = _dialect.CreateConnection(_store.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is DbException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await connection.DisposeAsync();
            throw new StoreUnavailableException(
                $"Cannot open the {_store} database set by {_store.SettingName}: {e.Message}", e);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Join(IEnumerable<int> versions) => string.Join(", ", versions);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
