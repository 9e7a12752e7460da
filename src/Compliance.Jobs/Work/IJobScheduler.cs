namespace Compliance.Jobs.Work;

/// <summary>
/// Asks the job store to run an item of due work now or later. It is a nudge, never the record: the caller has
/// already committed the item's row, and the reconciler enqueues it anyway if the job is lost. Arguments are the
/// kind and the id only.
/// </summary>
public interface IJobScheduler
{
    /// <summary>Runs <paramref name="id"/> of <paramref name="kind"/> as soon as a worker is free.</summary>
    void Enqueue(string kind, Guid id);

    /// <summary>Runs <paramref name="id"/> of <paramref name="kind"/> at <paramref name="dueAt"/> (at once if it is past).</summary>
    void Schedule(string kind, Guid id, DateTimeOffset dueAt);

    /// <summary>
    /// The items whose job the store still holds waiting: enqueued and not yet taken by a worker, or scheduled (a later
    /// due time, or Hangfire's next retry). Reads at most <paramref name="limit"/> jobs. The reconciler does not enqueue
    /// these again; an item missing here (its job lost with the store, deleted, failed for good, or running) is.
    /// </summary>
    IReadOnlySet<(string Kind, Guid Id)> Waiting(int limit);
}
