using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Consent.Lifecycle;
using Compliance.Data;
using Compliance.Jobs;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Policies;
using Compliance.Testing;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Compliance.Consent.Tests.Lifecycle;

/// <summary>
/// The ledger's recurring jobs through Hangfire, on a node that runs a job server (the in-memory job store beside
/// SQLite, Hangfire.PostgreSql beside PostgreSQL): both are in the job store with the crons of the settings, and
/// triggering them, as the dashboard's "Trigger now" does, records the expiry and signs a checkpoint that covers it.
/// Their crons are once a year, so that only the triggers can have run them.
/// </summary>
public abstract class RecurringJobsTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private const string Yearly = "0 0 1 1 *";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private IHost _node = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(stores.Settings).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
            ["Consent:CheckpointCron"] = Yearly,
            ["Consent:LifecycleCron"] = Yearly,
            ["Jobs:WorkerCount"] = "2",
        });
        builder.Services.AddLogging().AddComplianceData(builder.Configuration, gateStartup: false);
        builder.Services.AddCompliancePolicies(builder.Configuration);
        builder.Services.AddComplianceKeys(builder.Configuration).AddComplianceOidc(builder.Configuration)
            .AddComplianceConsent(builder.Configuration).AddComplianceJobs(builder.Configuration);
        _node = builder.Build();
        await ConsentLifecycleTests<TStores>.SettleAttestationKeyAsync(_node.Services);
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _node.StopAsync();
        _node.Dispose();
    }

    [Fact]
    public async Task LedgerJobs_AreRecurringInTheJobStore_AndTriggered_RecordTheExpiryThenSignACheckpointCoveringIt()
    {
        using (var connection = _node.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            var recurring = connection.GetRecurringJobs().ToDictionary(j => j.Id, j => j.Cron);
            recurring.ShouldContainKeyAndValue("ledger.checkpoint", Yearly);
            recurring.ShouldContainKeyAndValue(ConsentLifecycle.WorkId, Yearly);
        }

        var partner = await LedgerNodes.PartnerAsync(_node.Services, "recurring-a");
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(_node.Services, new ConsentEventDraft(subject, partner, "newsletter", ConsentState.Given, "2025-09", "fr",
            ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow.AddYears(-3).AddDays(-2)));
        var jobs = _node.Services.GetRequiredService<IRecurringJobManager>();

        jobs.Trigger(ConsentLifecycle.WorkId);
        var expired = await EventuallyAsync(async () =>
            (await ConsentLifecycleTests<TStores>.EventsAsync(_node.Services, subject)).FirstOrDefault(e => e.State == ConsentState.Expired));
        jobs.Trigger("ledger.checkpoint");
        var checkpoint = await EventuallyAsync(async () => (await LedgerNodes.InScopeAsync(_node.Services,
                s => s.GetRequiredService<ILedgerCheckpoints>().ListAsync(0, 1000, CancellationToken.None)))
            .LastOrDefault(c => c.TreeSize > expired.LeafIndex));

        checkpoint.TreeSize.ShouldBeGreaterThan(expired.LeafIndex);
        await ConsentLifecycleTests<TStores>.ShouldVerifyAsync(_node.Services);
    }

    /// <summary>Polls what a worker of the job server does in its own time, up to a minute.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, "the triggered job did not run within a minute");
            await Task.Delay(200);
        }
    }
}

public sealed class RecurringJobsTests_Sqlite(SqliteStores stores) : RecurringJobsTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class RecurringJobsTests_Postgres(PostgresStores stores) : RecurringJobsTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
