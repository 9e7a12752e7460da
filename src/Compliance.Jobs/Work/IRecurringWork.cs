using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Jobs.Work;

/// <summary>
/// Work that runs on a schedule rather than per row (for example signing a ledger checkpoint). Each run is idempotent
/// (Hangfire retries), reads its truth from our tables, and is safe while another run goes on (a run longer than its
/// schedule's period, or a retry): no job-store lock keeps two apart, since a node killed while holding one would
/// stall every other node's run until the lock timed out. Register an implementation with
/// <c>AddRecurringWork&lt;T&gt;()</c>; every node with a job server declares it, and Hangfire runs it once per tick.
/// </summary>
public interface IRecurringWork
{
    /// <summary>A stable id, the recurring job's id in the job store (for example <c>ledger.checkpoint</c>). Never rename one.</summary>
    string Id { get; }

    /// <summary>Its schedule, a cron expression read from this module's options.</summary>
    string Cron { get; }

    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>The Hangfire job of every <see cref="IRecurringWork"/>: its argument is the work's id, nothing else.</summary>
public sealed class RecurringWorkJob(IServiceScopeFactory scopes)
{
    [AutomaticRetry(Attempts = 3)]
    [JobDisplayName("{0}")]
    public async Task RunAsync(string id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var work = scope.ServiceProvider.GetServices<IRecurringWork>().FirstOrDefault(w => w.Id == id);

        // A recurring job left in the job store by a build that had it: nothing to do.
        if (work is not null)
        {
            await work.RunAsync(cancellationToken);
        }
    }
}
