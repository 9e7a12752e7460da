using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Compliance.Data.Storage;

/// <summary>
/// SQLite allows one writer per file. Left alone, concurrent writers of one process collide on <c>SQLITE_BUSY</c>,
/// and Microsoft.Data.Sqlite then retries by sleeping on a pool thread (150 ms at a time), which starves the pool
/// and puts every collision in the tail latency. This gate queues the writers of one database file inside the
/// process on an asynchronous semaphore instead: a transaction (always <c>BEGIN IMMEDIATE</c> here, so it takes the
/// write lock at once) holds the gate from its start to its commit or rollback; a write outside a transaction holds
/// it for its one statement. Readers never wait (WAL lets them read beside the writer). Another process on the same
/// file (the CLI beside a running server) still meets <c>SQLITE_BUSY</c> and the driver's retry, which is rare and
/// fine. Durability is untouched: every commit is still its own <c>synchronous=FULL</c> commit.
/// </summary>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "One gate per database file, for the life of the process.")]
internal sealed class SqliteWriteGate : IDbTransactionInterceptor, IDbCommandInterceptor, IDbConnectionInterceptor
{
    private static readonly ConcurrentDictionary<string, SqliteWriteGate> Gates = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim gate = new(1, 1);

    // The connections that hold the gate now: a connection serves one operation at a time, and a pooled connection
    // object is reused, so the mark is cleared on every release.
    private readonly ConditionalWeakTable<DbConnection, Holder> holders = new();

    private SqliteWriteGate(TimeSpan timeout) => Timeout = timeout;

    /// <summary>How long a writer waits for the gate before it fails, as it would have failed on a busy database.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The one gate of a database file in this process, or null for an in-memory or URI data source.</summary>
    public static SqliteWriteGate? For(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        if (string.IsNullOrWhiteSpace(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var timeout = TimeSpan.FromSeconds(builder.DefaultTimeout > 0 ? builder.DefaultTimeout : 30);
        return Gates.GetOrAdd(Path.GetFullPath(source), _ => new SqliteWriteGate(timeout));
    }

    // --- transactions: held from BEGIN to COMMIT or ROLLBACK ---------------------------------------------------------
    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Enter(connection);
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        await EnterAsync(connection, cancellationToken);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Exit(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Exit(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
    {
        if (eventData.Action is "Commit" or "Rollback")
        {
            Exit(eventData.Context);
        }
    }

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    // --- a write outside a transaction: held for the one statement ---------------------------------------------------
    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        EnterLoneWrite(command);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await EnterLoneWriteAsync(command, cancellationToken);
        return result;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        ExitLoneWrite(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        ExitLoneWrite(command);
        return ValueTask.FromResult(result);
    }

    // A lone INSERT ... RETURNING (SaveChanges of one row needs no transaction) runs as a reader: held until the
    // reader is closed, when the statement has finished.
    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        EnterLoneWrite(command);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await EnterLoneWriteAsync(command, cancellationToken);
        return result;
    }

    public InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        ExitLoneWrite(command);
        return result;
    }

    public ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        ExitLoneWrite(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        ExitLoneWrite(command);
        return result;
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => ExitLoneWrite(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        ExitLoneWrite(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => ExitLoneWrite(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ExitLoneWrite(command);
        return Task.CompletedTask;
    }

    // --- the safety net: a transaction disposed without commit or rollback rolls back when its connection closes ------
    public void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Exit(connection);

    public Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Exit(connection);
        return Task.CompletedTask;
    }

    public InterceptionResult ConnectionDisposing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Exit(connection);
        return result;
    }

    public ValueTask<InterceptionResult> ConnectionDisposingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Exit(connection);
        return ValueTask.FromResult(result);
    }

    // A write is anything but a query: EF's reads all start with SELECT; PRAGMA reads are never issued through EF.
    private bool IsLoneWrite(DbCommand command) =>
        command.Transaction is null && command.Connection is not null && !Holds(command.Connection)
        && !command.CommandText.AsSpan().TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase);

    private void EnterLoneWrite(DbCommand command)
    {
        if (IsLoneWrite(command))
        {
            Enter(command.Connection!);
        }
    }

    private async ValueTask EnterLoneWriteAsync(DbCommand command, CancellationToken cancellationToken)
    {
        if (IsLoneWrite(command))
        {
            await EnterAsync(command.Connection!, cancellationToken);
        }
    }

    private bool Holds(DbConnection connection) => holders.TryGetValue(connection, out var holder) && holder.Held;

    private void ExitLoneWrite(DbCommand command)
    {
        if (command.Transaction is null && command.Connection is not null)
        {
            Exit(command.Connection);
        }
    }

    private void Enter(DbConnection connection)
    {
        var holder = holders.GetValue(connection, _ => new Holder());
        if (holder.Held)
        {
            return;
        }

        if (!gate.Wait(Timeout))
        {
            throw Busy();
        }

        holder.Held = true;
    }

    private async ValueTask EnterAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var holder = holders.GetValue(connection, _ => new Holder());
        if (holder.Held)
        {
            return;
        }

        if (!await gate.WaitAsync(Timeout, cancellationToken))
        {
            throw Busy();
        }

        holder.Held = true;
    }

    private void Exit(DbContext? context)
    {
        if (context is not null)
        {
            Exit(context.Database.GetDbConnection());
        }
    }

    private void Exit(DbConnection connection)
    {
        if (holders.TryGetValue(connection, out var holder) && holder.Held)
        {
            holder.Held = false;
            gate.Release();
        }
    }

    // The error SQLite itself gives when the lock is not obtained in time, so callers see one failure mode.
    private static SqliteException Busy() => new("database is locked (waited for the other writers of this process)", 5);

    private sealed class Holder
    {
        public bool Held { get; set; }
    }
}
