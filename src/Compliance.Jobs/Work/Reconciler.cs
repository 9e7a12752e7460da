using Compliance.Jobs.Telemetry;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs.Work;

/// <summary>
/// Re-enqueues whatever our tables say is due and not in the hands of a live job. It runs as a recurring job and once
/// when a job server starts, so a lost, wiped or in-memory job store loses nothing. Idempotent, and it takes no
/// job-store lock: two passes at once, on one node or two, claim each item once (<see cref="IDueWork.ClaimDueAsync"/>),
/// and a node killed in the middle of a pass leaves nothing that holds back the others' passes.
/// </summary>
public sealed class Reconciler(
    IEnumerable<IDueWork> kinds,
    IJobScheduler scheduler,
    JobMetrics metrics,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>The recurring job's id in the job store.</summary>
    public const string RecurringJobId = "compliance.reconcile";

    /// <summary>The recurring pass: items whose enqueue lease has run out.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("reconcile")]
    public Task RunAsync(CancellationToken cancellationToken) => ReconcileAsync(ignoreEnqueued: false, cancellationToken);

    /// <summary>
    /// One pass. With <paramref name="ignoreEnqueued"/> (a node's first pass), items already marked as enqueued are
    /// enqueued again: their job may have died with a node, and a second run of an item changes nothing.
    /// Returns how many items were enqueued.
    /// </summary>
    public async Task<int> ReconcileAsync(bool ignoreEnqueued, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var total = 0;
        foreach (var work in kinds)
        {
            var now = time.GetUtcNow();
            var due = await work.ClaimDueAsync(now, now + settings.EnqueuedLease, settings.ReconcileBatch, ignoreEnqueued, cancellationToken);
            foreach (var id in due)
            {
                scheduler.Enqueue(work.Kind, id);
            }

            metrics.RecordOldestDue(work.Kind, await work.OldestDueAsync(time.GetUtcNow(), cancellationToken), time.GetUtcNow());
            if (due.Count > 0)
            {
                JobsLog.Reconciled(logger, work.Kind, due.Count, ignoreEnqueued);
            }

            total += due.Count;
        }

        return total;
    }
}
