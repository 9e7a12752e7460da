using System.Globalization;
using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Jobs;
using Compliance.Jobs.Notices;
using Compliance.Jobs.Work;
using Compliance.Server.Tests.Startup;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Compliance.Server.Tests.Jobs;

/// <summary>
/// Our tables are the truth, whatever happens to the job store: real server processes killed with SIGKILL while
/// notices are pending, a PostgreSQL job store wiped while the server is down, and two servers sharing one job store.
/// Each notice must end delivered exactly once, which its one <c>notice.delivered</c> audit row proves.
/// </summary>
public sealed class JobsAcrossCrashesTests : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-jobcrash-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSQL)]
    public async Task KillNine_With200NoticesPending_RestartDeliversEachExactlyOnce(DatabaseProvider provider)
    {
        var settings = await StoresAsync(provider);
        settings["Jobs:WorkerCount"] = "1";
        var notices = await PostAsync(settings, 200, DateTimeOffset.UtcNow);

        await using (var first = ServerProcess.Start(settings))
        {
            await WaitForAsync(settings, delivered => delivered > 0, TimeSpan.FromSeconds(60));
            first.KillHard();
            await first.WaitForExitAsync();
        }

        var deliveredAtKill = await DeliveredAsync(settings);
        deliveredAtKill.ShouldBeLessThan(200, "the kill came while notices were still pending");

        await using var second = ServerProcess.Start(settings);
        await WaitForAsync(settings, delivered => delivered == 200, TimeSpan.FromSeconds(90));
        await ShouldEachBeDeliveredOnceAsync(settings, notices);
    }

    [Fact]
    public async Task Postgres_JobStoreWipedWhileTheServerIsDown_TheReconcilerRebuildsIt_NothingLost()
    {
        var settings = await StoresAsync(DatabaseProvider.PostgreSQL);
        var notices = await PostAsync(settings, 100, DateTimeOffset.UtcNow.AddSeconds(2));
        (await ScalarAsync(settings, "SELECT count(*) FROM hangfire.job")).ShouldBe(100L, "each notice was scheduled in the job store");

        await ExecuteAsync(settings, "TRUNCATE hangfire.job, hangfire.jobqueue, hangfire.state, hangfire.jobparameter, hangfire.set, hangfire.hash CASCADE");
        await using var server = ServerProcess.Start(settings);
        await WaitForAsync(settings, delivered => delivered == 100, TimeSpan.FromSeconds(90));

        await ShouldEachBeDeliveredOnceAsync(settings, notices);
    }

    [Fact]
    public async Task Postgres_TwoServers_1000Jobs_NoJobRunTwiceAtOnce_NoneLost()
    {
        var settings = await StoresAsync(DatabaseProvider.PostgreSQL);
        // One after the other: the first creates the keys that both share.
        await using var nodeA = ServerProcess.Start(settings);
        await nodeA.WaitUntilReadyAsync();
        await using var nodeB = ServerProcess.Start(settings);
        await nodeB.WaitUntilReadyAsync();

        var notices = await PostAsync(settings, 1000, DateTimeOffset.UtcNow);
        await WaitForAsync(settings, delivered => delivered == 1000, TimeSpan.FromSeconds(180));

        await ShouldEachBeDeliveredOnceAsync(settings, notices);
        // Hangfire keeps each job's states: a job handed to two workers would show two Processing states.
        (await ScalarAsync(settings, """
            SELECT count(*) FROM (
                SELECT s.jobid FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid
                WHERE s.name = 'Processing' AND j.invocationdata::text LIKE '%DueWorkJob%'
                GROUP BY s.jobid HAVING count(*) > 1) twice
            """)).ShouldBe(0L, "no job was processed twice");
        (await ScalarAsync(settings, """
            SELECT count(DISTINCT s.data::jsonb ->> 'ServerId') FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid
            WHERE s.name = 'Processing' AND j.invocationdata::text LIKE '%DueWorkJob%'
            """)).ShouldBe(2L, "both servers ran jobs");
        // The reconciler may have enqueued a notice again while its first job waited in the queue (a 3 s lease): such a
        // job finds the notice delivered. Each ends Succeeded, none Failed, once the queue drains.
        await WaitForJobsAsync(settings, "statename <> 'Succeeded'", left => left == 0, TimeSpan.FromSeconds(60));
        await ShouldHoldIdsOnlyAsync(settings, notices);
    }

    // Jobs already waiting in the shared store are not enqueued again once the items' 3 s lease has run out while one
    // worker works through the queue. Before, each lease that ran out in the queue added one more job per waiting item.
    [Fact]
    public async Task Postgres_200JobsWaitingInTheStore_TheirLeaseRunningOutEnqueuesNoneAgain()
    {
        var settings = await StoresAsync(DatabaseProvider.PostgreSQL);
        settings["Jobs:WorkerCount"] = "1";
        var notices = await PostAsync(settings, 200, DateTimeOffset.UtcNow);
        (await ScalarAsync(settings, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%DueWorkJob%'")).ShouldBe(200L);

        await using var node = ServerProcess.Start(settings);
        await WaitForAsync(settings, delivered => delivered == 200, TimeSpan.FromSeconds(90));
        await WaitForJobsAsync(settings, "statename <> 'Succeeded'", left => left == 0, TimeSpan.FromSeconds(60));

        await ShouldEachBeDeliveredOnceAsync(settings, notices);
        // The job running when a pass starts is not waiting, so its item may get one more job if its lease ran out: with
        // one worker, at most one per pass (the recurring ones and the node's first). Here 201 jobs in all over 8 to 15
        // passes; before, the same run made 359 to 400.
        var passes = await ScalarAsync(settings, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%Reconciler%'") + 1;
        var jobs = await ScalarAsync(settings, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%DueWorkJob%'");
        (jobs - 200).ShouldBeLessThanOrEqualTo(passes, $"one job per notice, the one posted with it, and at most one more per pass ({passes})");
    }

    // A node killed while it held job-store locks leaves their rows in hangfire.lock. Before the fix, the reconciler's
    // own lock (DisableConcurrentExecution) stalled the survivor's passes for ten minutes, each pass holding a worker
    // for a minute, and Hangfire's scheduler locks held back scheduled and recurring jobs as long.
    [Fact]
    public async Task Postgres_ANodeDiedHoldingTheJobStoreLocks_TheSurvivorDeliversWithinTheLockTimeout()
    {
        var settings = await StoresAsync(DatabaseProvider.PostgreSQL);
        settings["Jobs:WorkerCount"] = "1";
        await using var survivor = ServerProcess.Start(settings);
        await survivor.WaitUntilReadyAsync();

        // Hangfire prefixes each resource with the schema; the last two are the locks DisableConcurrentExecution took.
        string[] deadNodesLocks =
        [
            "recurring-jobs:lock", "locks:schedulepoller", "lock:recurring-job:" + Reconciler.RecurringJobId,
            typeof(Reconciler).FullName + ".RunAsync", typeof(RecurringWorkJob).FullName + ".RunAsync",
        ];
        foreach (var resource in deadNodesLocks.Select(name => "hangfire:" + name))
        {
            await ExecuteAsync(settings, $"""
                INSERT INTO hangfire.lock (resource, updatecount, acquired) VALUES ('{resource}', 0, now())
                ON CONFLICT (resource) DO UPDATE SET acquired = now()
                """);
        }

        // Due in a second, so scheduled in the job store: only the schedulers, which need those locks, or the reconciler
        // can hand them to a worker. The locks are taken over after Jobs:LockTimeoutSeconds (5 s here); with
        // Hangfire's default (ten minutes), 49 of 50 were still waiting after the 45 s below.
        var notices = await PostAsync(settings, 50, DateTimeOffset.UtcNow.AddSeconds(1));
        await WaitForAsync(settings, delivered => delivered == 50, TimeSpan.FromSeconds(45));

        await ShouldEachBeDeliveredOnceAsync(settings, notices);
    }

    // The job store after a full run: job arguments and states hold kinds and ids, never an account (the pseudonymous
    // subject) or anything a notice says.
    private static async Task ShouldHoldIdsOnlyAsync(Dictionary<string, string?> settings, IReadOnlyDictionary<Guid, Guid> notices)
    {
        var text = string.Join('\n', await TextsAsync(settings, """
            SELECT invocationdata::text || ' ' || arguments::text FROM hangfire.job
            UNION ALL SELECT coalesce(data::text, '') || ' ' || coalesce(reason, '') FROM hangfire.state
            UNION ALL SELECT name || '=' || coalesce(value, '') FROM hangfire.jobparameter
            UNION ALL SELECT key || ' ' || field || ' ' || coalesce(value, '') FROM hangfire.hash
            UNION ALL SELECT key || ' ' || value FROM hangfire.set
            """));
        text.ShouldContain(notices.Keys.First().ToString("D"), customMessage: "the scan reads the job arguments");
        foreach (var account in notices.Values.Distinct())
        {
            text.ShouldNotContain(account.ToString("D"), Case.Insensitive);
            text.ShouldNotContain(account.ToString("N"), Case.Insensitive);
        }
    }

    private async Task<Dictionary<string, string?>> StoresAsync(DatabaseProvider provider)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, Guid.NewGuid().ToString("N")[..8]), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var settings = await MigratedStores.CreateAsync(_empty, provider, folder);
        settings["Jobs:ReconcileCron"] = "*/1 * * * * *";
        settings["Jobs:EnqueuedLeaseSeconds"] = "3";
        // The killed node may hold Hangfire's scheduler locks; its successor takes them after this.
        settings["Jobs:LockTimeoutSeconds"] = "5";
        return settings;
    }

    // Posts notices as another feature would, from this process: on PostgreSQL each post also enqueues or schedules its
    // job in the shared job store; on SQLite the job store is the server's memory, so only its reconciler finds them.
    private static async Task<IReadOnlyDictionary<Guid, Guid>> PostAsync(Dictionary<string, string?> settings, int count, DateTimeOffset deliverAt)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).AddInMemoryCollection([new("Jobs:Server", "false")]).Build();
        var services = new ServiceCollection().AddLogging().AddComplianceData(configuration, gateStartup: false);
        services.AddComplianceJobs(configuration).AddComplianceNotices();
        await using var provider = services.BuildServiceProvider();
        var accounts = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToArray();
        var posted = new Dictionary<Guid, Guid>();
        for (var i = 0; i < count; i++)
        {
            await using var scope = provider.CreateAsyncScope();
            var account = accounts[i % accounts.Length];
            var id = await scope.ServiceProvider.GetRequiredService<INotices>()
                .PostAsync(account, NoticeFacts.RequestReceived(Guid.NewGuid(), DateTimeOffset.UtcNow.AddDays(30)), deliverAt, CancellationToken.None);
            posted[id] = account;
        }

        return posted;
    }

    private static async Task ShouldEachBeDeliveredOnceAsync(Dictionary<string, string?> settings, IReadOnlyDictionary<Guid, Guid> notices)
    {
        var rows = await AuditRows.ReadAsync(Compliance(settings), AuditEventTypes.NoticeDelivered.Id);
        var perNotice = rows.GroupBy(r => r.Details!.Split("\"notice_id\":\"")[1][..36]).ToDictionary(g => Guid.Parse(g.Key), g => g.Count());
        perNotice.Keys.Order().ShouldBe(notices.Keys.Order(), "every notice was delivered");
        perNotice.Values.ShouldAllBe(count => count == 1, "no notice was delivered twice");
        (await DeliveredAsync(settings)).ShouldBe(notices.Count);
    }

    private static async Task WaitForAsync(Dictionary<string, string?> settings, Func<long, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long delivered;
        while (!done(delivered = await DeliveredAsync(settings)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{delivered} notice(s) delivered after {timeout}.");
            }

            await Task.Delay(10);
        }
    }

    private static async Task WaitForJobsAsync(Dictionary<string, string?> settings, string condition, Func<long, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long count;
        while (!done(count = await ScalarAsync(settings, $"SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%DueWorkJob%' AND {condition}")))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"{count} delivery job(s) still match '{condition}' after {timeout}");
            await Task.Delay(100);
        }
    }

    private static async Task<long> DeliveredAsync(Dictionary<string, string?> settings) =>
        await CountAsync(Compliance(settings), "SELECT count(*) FROM notices WHERE delivered_at IS NOT NULL");

    private static StoreConnection Compliance(Dictionary<string, string?> settings)
    {
        var options = new StorageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(StorageOptions.SectionName).Bind(options);
        return options.ConnectionFor(Store.Compliance);
    }

    private static async Task<long> CountAsync(StoreConnection store, string sql)
    {
        await using var connection = StoreSql.Connect(store);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static Task<long> ScalarAsync(Dictionary<string, string?> settings, string sql) => CountAsync(Compliance(settings), sql);

    private static async Task ExecuteAsync(Dictionary<string, string?> settings, string sql)
    {
        await using var connection = new NpgsqlConnection(settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> TextsAsync(Dictionary<string, string?> settings, string sql)
    {
        await using var connection = new NpgsqlConnection(settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var texts = new List<string>();
        while (await reader.ReadAsync())
        {
            texts.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
        }

        return texts;
    }
}
