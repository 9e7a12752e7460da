using Compliance.Data.Model;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Compliance.Data.Tests.Storage;

/// <summary>
/// The writers of one SQLite file queue on an asynchronous gate instead of colliding on <c>SQLITE_BUSY</c> and
/// sleeping on a pool thread. Each test keeps the driver's busy timeout short (2 s): without the gate, the second
/// writer would block its thread in the driver's sleep-retry loop and then fail with "database is locked".
/// </summary>
public sealed class SqliteWriteGateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-gate-").FullName;
    private readonly StoreConnection _store;

    public SqliteWriteGateTests()
    {
        _store = new StoreConnection(Store.Compliance, DatabaseProvider.Sqlite,
            $"Data Source={Path.Combine(_directory, "gate.db")};Pooling=True;Default Timeout=2");
        using var db = Open();
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL; CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL);");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task SecondWriter_WhileATransactionIsOpen_WaitsWithoutBlockingAThread_ThenCommits()
    {
        await using var first = Open();
        await using var second = Open();
        await using var held = await first.Database.BeginTransactionAsync();
        await first.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'first')");

        // The call returns at once, still waiting: no thread sleeps in the driver's retry loop (without the gate,
        // this call would block here for the 2 s timeout and come back failed with "database is locked").
        var begin = second.Database.BeginTransactionAsync();
        begin.IsCompleted.ShouldBeFalse();

        await held.CommitAsync();
        await using (var transaction = await begin.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            await second.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (2, 'second')");
            await transaction.CommitAsync();
        }

        (await ValuesAsync()).ShouldBe(["first", "second"]);
    }

    [Fact]
    public async Task TransactionDisposedWithoutCommit_RollsBack_AndTheNextWriterProceeds()
    {
        await using (var abandoned = Open())
        {
            await using var transaction = await abandoned.Database.BeginTransactionAsync();
            await abandoned.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'abandoned')");
        }

        await using var next = Open();
        await WriteInTransactionAsync(next, 2, "next").WaitAsync(TimeSpan.FromSeconds(10));

        (await ValuesAsync()).ShouldBe(["next"]);
    }

    [Fact]
    public async Task ContextDisposed_WithItsConnectionOpenedByHand_AndATransactionLeftOpen_ReleasesTheGate()
    {
        await using (var abandoned = Open())
        {
            await abandoned.Database.OpenConnectionAsync();
            var transaction = await abandoned.Database.BeginTransactionAsync();
            await abandoned.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'abandoned')");
            GC.KeepAlive(transaction);
        }

        await using var next = Open();
        await WriteInTransactionAsync(next, 2, "next").WaitAsync(TimeSpan.FromSeconds(10));

        (await ValuesAsync()).ShouldBe(["next"]);
    }

    [Fact]
    public async Task PooledContext_ReturnedWithATransactionLeftOpen_ReleasesTheGate()
    {
        var options = new DbContextOptionsBuilder<ProbeContext>();
        options.UseStore(_store);
        var pool = new PooledDbContextFactory<ProbeContext>(options.Options);
        await using (var abandoned = await pool.CreateDbContextAsync())
        {
            await abandoned.Database.OpenConnectionAsync();
            var transaction = await abandoned.Database.BeginTransactionAsync();
            await abandoned.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'abandoned')");
            GC.KeepAlive(transaction);
        }

        // Two leases at once: the second is a different context, with a different connection.
        await using var reused = await pool.CreateDbContextAsync();
        await using var other = await pool.CreateDbContextAsync();
        await WriteInTransactionAsync(other, 2, "other").WaitAsync(TimeSpan.FromSeconds(10));
        await WriteInTransactionAsync(reused, 3, "reused").WaitAsync(TimeSpan.FromSeconds(10));

        (await ValuesAsync()).ShouldBe(["other", "reused"]);
    }

    [Fact]
    public async Task FailedStatementInATransaction_ThenRollback_ReleasesTheGate()
    {
        await using (var failing = Open())
        {
            await using var transaction = await failing.Database.BeginTransactionAsync();
            await failing.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'kept')");
            await Should.ThrowAsync<SqliteException>(() => failing.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'duplicate')"));
            await transaction.RollbackAsync();
        }

        await using var next = Open();
        await WriteInTransactionAsync(next, 2, "next").WaitAsync(TimeSpan.FromSeconds(10));

        (await ValuesAsync()).ShouldBe(["next"]);
    }

    [Fact]
    public async Task LoneWrite_OutsideATransaction_QueuesBehindTheOpenTransaction()
    {
        await using var first = Open();
        await using var second = Open();
        await using var held = await first.Database.BeginTransactionAsync();
        await first.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (1, 'first')");

        var lone = second.Database.ExecuteSqlRawAsync("INSERT INTO probe (id, value) VALUES (2, 'lone')");
        lone.IsCompleted.ShouldBeFalse();

        await held.CommitAsync();
        (await lone.WaitAsync(TimeSpan.FromSeconds(10))).ShouldBe(1);
        (await ValuesAsync()).ShouldBe(["first", "lone"]);
    }

    [Fact]
    public async Task ManyConcurrentWriters_AllCommit_AndTheGateIsFreeAfterwards()
    {
        // Its own file, with the production wait (30 s): the 64th writer queues behind 63 synchronous commits, which
        // on a loaded CI machine can take longer than the 2 s the other tests use. What is tested here is that every
        // writer gets through and the gate is released each time, not how fast the disk syncs.
        var store = new StoreConnection(Store.Compliance, DatabaseProvider.Sqlite,
            $"Data Source={Path.Combine(_directory, "many.db")};Pooling=True;Default Timeout=30");
        ProbeContext OpenMany() => new(new DbContextOptionsBuilder<ProbeContext>().UseStore(store).Options);
        await using (var setup = OpenMany())
        {
            await setup.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL; CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL);");
        }

        var writers = Enumerable.Range(1, 64).Select(i => Task.Run(async () =>
        {
            await using var db = OpenMany();
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"INSERT INTO probe (id, value) VALUES ({i}, 'w')");
            await db.Database.ExecuteSqlAsync($"UPDATE probe SET value = 'writer' WHERE id = {i}");
            await transaction.CommitAsync();
        }));

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(120));

        await using var last = OpenMany();
        (await last.Database.SqlQueryRaw<string>("SELECT value AS \"Value\" FROM probe").ToListAsync()).ShouldBe(Enumerable.Repeat("writer", 64));
        await (await last.Database.BeginTransactionAsync().WaitAsync(TimeSpan.FromSeconds(5))).DisposeAsync();
    }

    [Fact]
    public async Task Store_KeepsFullSynchronousCommits_InWriteAheadLogMode()
    {
        await using var db = Open();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();

        command.CommandText = "PRAGMA synchronous";
        var synchronous = Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = "PRAGMA journal_mode";
        var journal = (string?)await command.ExecuteScalarAsync();

        synchronous.ShouldBe(2, "2 is FULL: every commit is synced to disk before it returns");
        journal.ShouldBe("wal");
    }

    private ProbeContext Open() => new(new DbContextOptionsBuilder<ProbeContext>().UseStore(_store).Options);

    private static async Task WriteInTransactionAsync(ProbeContext db, int id, string value)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlAsync($"INSERT INTO probe (id, value) VALUES ({id}, {value})");
        await transaction.CommitAsync();
    }

    private async Task<List<string>> ValuesAsync()
    {
        await using var db = Open();
        return await db.Database.SqlQueryRaw<string>("SELECT value AS \"Value\" FROM probe ORDER BY id").ToListAsync();
    }

    private sealed class ProbeContext(DbContextOptions options) : StoreDbContext(options);
}
