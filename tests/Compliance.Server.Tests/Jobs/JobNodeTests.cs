using System.Net;
using System.Net.Sockets;
using Compliance.Data.Storage;
using Compliance.Server.Tests.Startup;
using Compliance.Testing;
using Npgsql;

namespace Compliance.Server.Tests.Jobs;

/// <summary>Job servers as real processes: readiness follows the heartbeat, worker-only nodes bind no port, metrics.</summary>
public sealed class JobNodeTests : IAsyncLifetime
{
    private readonly EmptyStores _empty = new();
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-jobnodes-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _empty.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Postgres_JobServerHeartbeatGoesStale_ReadinessFails_ThenRecoversWithTheNextBeat()
    {
        var settings = await MigratedStores.CreateAsync(_empty, DatabaseProvider.PostgreSQL, Folder("pg"));
        await using var server = ServerProcess.Start(settings);
        await server.WaitUntilReadyAsync();
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        await ExecuteAsync(settings, "UPDATE hangfire.server SET lastheartbeat = now() - interval '1 hour'");
        var stale = await client.GetAsync("/health/ready");

        stale.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var body = await stale.Content.ReadAsStringAsync();
        body.ShouldContain("\"job-server\":\"Unhealthy\"");
        body.ShouldContain("\"job-store\":\"Healthy\"");
        // The server beats every 15 s: readiness comes back by itself.
        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task Postgres_WebOnlyNode_HasNoJobServerCheck_AndRunsNoJobServer()
    {
        var settings = await MigratedStores.CreateAsync(_empty, DatabaseProvider.PostgreSQL, Folder("web"));
        settings["Jobs:Server"] = "false";
        await using var server = ServerProcess.Start(settings);
        await server.WaitUntilReadyAsync();
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        var body = await client.GetStringAsync("/health/ready");

        body.ShouldNotContain("job-server");
        body.ShouldContain("\"job-store\":\"Healthy\"");
        (await ScalarAsync(settings, "SELECT count(*) FROM hangfire.server")).ShouldBe(0L);
    }

    [Fact]
    public async Task Postgres_WorkerOnlyNode_BindsNoPort_YetRunsTheRecurringReconciler()
    {
        var settings = await MigratedStores.CreateAsync(_empty, DatabaseProvider.PostgreSQL, Folder("worker"));
        settings["Jobs:WorkerOnly"] = "true";
        settings["Jobs:ReconcileCron"] = "*/1 * * * * *";
        await using var worker = ServerProcess.Start(settings);

        (await worker.WaitForOutputAsync("worker-only: True", TimeSpan.FromSeconds(60))).ShouldBeTrue(worker.StandardError);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long reconciled = 0;
        while (DateTime.UtcNow < deadline && reconciled == 0)
        {
            await Task.Delay(250);
            reconciled = await ScalarAsync(settings,
                "SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded' AND invocationdata::text LIKE '%Reconciler%'");
        }

        reconciled.ShouldBeGreaterThan(0L, "the worker-only node ran the recurring reconciler");
        worker.HasExited.ShouldBeFalse();
        using var probe = new TcpClient();
        await Should.ThrowAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, worker.Port));
    }

    [Fact]
    public async Task Sqlite_Metrics_CountTheReconcilerRuns_AndGaugeTheOldestDueItem_OnLoopbackOnly()
    {
        var settings = await MigratedStores.CreateAsync(_empty, DatabaseProvider.Sqlite, Folder("metrics"));
        settings["Jobs:ReconcileCron"] = "*/1 * * * * *";
        await using var server = ServerProcess.Start(settings);
        await server.WaitUntilReadyAsync();
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        var deadline = DateTime.UtcNow.AddSeconds(30);
        var metrics = "";
        while (DateTime.UtcNow < deadline && !metrics.Contains("compliance_jobs_succeeded_total{", StringComparison.Ordinal))
        {
            await Task.Delay(500);
            metrics = await client.GetStringAsync("/metrics");
        }

        metrics.ShouldContain("compliance_jobs_succeeded_total{");
        metrics.ShouldContain("kind=\"reconcile\"");
        metrics.ShouldContain("compliance_jobs_enqueued_total{");
    }

    // Owner-only, as the server demands of its data folder.
    private string Folder(string name) =>
        Directory.CreateDirectory(Path.Combine(_root, name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;

    private static async Task ExecuteAsync(Dictionary<string, string?> settings, string sql)
    {
        await using var connection = new NpgsqlConnection(settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(Dictionary<string, string?> settings, string sql)
    {
        await using var connection = new NpgsqlConnection(settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
