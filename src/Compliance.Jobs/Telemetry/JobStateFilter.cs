using Compliance.Jobs.Work;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Telemetry;

/// <summary>Counts state changes of our jobs for <see cref="JobMetrics"/>, and logs failures by exception type only.</summary>
internal sealed class JobStateFilter(JobMetrics metrics, ILogger<JobStateFilter> logger) : JobFilterAttribute, IApplyStateFilter
{
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        var kind = KindOf(context.BackgroundJob.Job);
        if (IsRetry(context))
        {
            metrics.Retried(kind);
            JobsLog.Retrying(logger, context.BackgroundJob.Id, kind, context.GetJobParameter<int>("RetryCount", allowStale: true));
            return;
        }

        switch (context.NewState)
        {
            case EnqueuedState:
                metrics.Enqueued(kind);
                break;
            case SucceededState:
                metrics.Succeeded(kind);
                break;
            case FailedState failed:
                metrics.Failed(kind);
                JobsLog.FailedForGood(logger, context.BackgroundJob.Id, kind, failed.Exception?.GetType().Name ?? "unknown");
                break;
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    // Hangfire moves a failed job that has retries left to Scheduled (or Enqueued) with a reason naming the retry.
    private static bool IsRetry(ApplyStateContext context) =>
        context.OldStateName == ProcessingState.StateName
        && context.NewState is ScheduledState or EnqueuedState
        && context.NewState.Reason?.StartsWith("Retry attempt", StringComparison.Ordinal) == true;

    // Metrics are tagged with a kind, never with an argument that identifies an item.
    private static string KindOf(Job? job) => job switch
    {
        { Type: var type } when type == typeof(DueWorkJob) && job.Args.Count > 0 && job.Args[0] is string kind => kind,
        { Type: var type } when type == typeof(Reconciler) => "reconcile",
        _ => "other",
    };
}
