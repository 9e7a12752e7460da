using Hangfire;
using Hangfire.Common;

namespace Compliance.Jobs.Work;

/// <summary>Enqueues <see cref="DueWorkJob"/> in the configured job store.</summary>
internal sealed class HangfireJobScheduler(IBackgroundJobClient jobs, JobStorage storage, TimeProvider time) : IJobScheduler
{
    private const int Page = 500;

    public void Enqueue(string kind, Guid id) =>
        jobs.Enqueue<DueWorkJob>(job => job.RunAsync(kind, id, CancellationToken.None));

    public void Schedule(string kind, Guid id, DateTimeOffset dueAt)
    {
        if (dueAt <= time.GetUtcNow())
        {
            Enqueue(kind, id);
            return;
        }

        jobs.Schedule<DueWorkJob>(job => job.RunAsync(kind, id, CancellationToken.None), dueAt);
    }

    // Through the monitoring API, which every store implements: the queues' waiting jobs, then the scheduled set. A job
    // that moves between the pages is missed at worst, and its item is then enqueued again, as without this check.
    // Running jobs are not counted: a dead node's stay listed as running until Hangfire drops the node, minutes later.
    public IReadOnlySet<(string Kind, Guid Id)> Waiting(int limit)
    {
        var monitoring = storage.GetMonitoringApi();
        var waiting = new HashSet<(string Kind, Guid Id)>();
        var read = 0;
        foreach (var queue in monitoring.Queues())
        {
            read += ReadPages(limit - read, (from, count) => monitoring.EnqueuedJobs(queue.Name, from, count)
                .Select(entry => entry.Value is { InEnqueuedState: true } job ? job.Job : null).ToList(), waiting);
        }

        ReadPages(limit - read, (from, count) => monitoring.ScheduledJobs(from, count)
            .Select(entry => entry.Value is { InScheduledState: true } job ? job.Job : null).ToList(), waiting);
        return waiting;
    }

    private static int ReadPages(int limit, Func<int, int, List<Job?>> page, HashSet<(string Kind, Guid Id)> waiting)
    {
        var read = 0;
        while (read < limit)
        {
            var count = Math.Min(Page, limit - read);
            var batch = page(read, count);
            foreach (var job in batch)
            {
                if (job is { Args.Count: >= 2 } && job.Type == typeof(DueWorkJob) && job.Args[0] is string kind && job.Args[1] is Guid id)
                {
                    waiting.Add((kind, id));
                }
            }

            read += batch.Count;
            if (batch.Count < count)
            {
                break;
            }
        }

        return read;
    }
}
