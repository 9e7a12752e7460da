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
/// <para>
/// An item whose job still waits in the store (<see cref="IJobScheduler.Waiting"/>) keeps that job: the claim renewed
/// its lease, and nothing more is enqueued. Without that check, a queue longer than the lease got one more job per
/// waiting item each time the lease ran out, adding load to a system already behind.
/// </para>
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

    /// <summary>How many waiting jobs a pass reads at most; past them, an item is enqueued again as if its job were lost.</summary>
    public const int WaitingJobsRead = 20_000;

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
        // Read before the claims: a waiting job that a worker takes meanwhile is still counted, and one that finishes its
        // item leaves nothing to claim. Read after a claim, either could be missed. Only jobs already running when the
        // pass starts, at most one per worker, can have their item enqueued again.
        var waiting = scheduler.Waiting(WaitingJobsRead);
        foreach (var work in kinds)
        {
            var now = time.GetUtcNow();
            var due = await work.ClaimDueAsync(now, now + settings.EnqueuedLease, settings.ReconcileBatch, ignoreEnqueued, cancellationToken);
            var enqueued = 0;
            foreach (var id in due)
            {
                if (!waiting.Contains((work.Kind, id)))
                {
                    scheduler.Enqueue(work.Kind, id);
                    enqueued++;
                }
            }

            metrics.RecordOldestDue(work.Kind, await work.OldestDueAsync(time.GetUtcNow(), cancellationToken), time.GetUtcNow());
            if (due.Count > 0)
            {
                JobsLog.Reconciled(logger, work.Kind, enqueued, due.Count - enqueued, ignoreEnqueued);
            }

            total += enqueued;
        }

        return total;
    }
}
