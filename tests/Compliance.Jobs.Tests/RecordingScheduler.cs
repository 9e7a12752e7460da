using System.Collections.Concurrent;
using Compliance.Jobs.Work;

namespace Compliance.Jobs.Tests;

/// <summary>The job store as the tests see it: what was enqueued or scheduled, and nothing ever runs; or a store that is down.</summary>
public sealed class RecordingScheduler : IJobScheduler
{
    public ConcurrentQueue<(string Kind, Guid Id, DateTimeOffset? At)> Calls { get; } = new();

    public bool Down { get; set; }

    public void Enqueue(string kind, Guid id)
    {
        Fail();
        Calls.Enqueue((kind, id, null));
    }

    public void Schedule(string kind, Guid id, DateTimeOffset dueAt)
    {
        Fail();
        Calls.Enqueue((kind, id, dueAt));
    }

    /// <summary>Nothing ever runs here, so every recorded job still waits; clearing <see cref="Calls"/> loses them.</summary>
    public IReadOnlySet<(string Kind, Guid Id)> Waiting(int limit)
    {
        Fail();
        return Calls.Take(limit).Select(call => (call.Kind, call.Id)).ToHashSet();
    }

    private void Fail()
    {
        if (Down)
        {
            throw new InvalidOperationException("the job store is down");
        }
    }
}
