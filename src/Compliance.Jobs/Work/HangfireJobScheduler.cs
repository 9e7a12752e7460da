using Hangfire;

namespace Compliance.Jobs.Work;

/// <summary>Enqueues <see cref="DueWorkJob"/> in the configured job store.</summary>
internal sealed class HangfireJobScheduler(IBackgroundJobClient jobs, TimeProvider time) : IJobScheduler
{
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
}
