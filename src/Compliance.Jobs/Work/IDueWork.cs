namespace Compliance.Jobs.Work;

/// <summary>
/// One kind of background work whose truth is rows in our own tables, each with a state and a due time. A job only
/// drives a row forward: the reconciler re-enqueues whatever <see cref="ClaimDueAsync"/> returns, so a lost or wiped job
/// store loses nothing. Register an implementation with <c>AddDueWork&lt;T&gt;()</c>.
/// </summary>
public interface IDueWork
{
    /// <summary>A stable name, stored in job arguments (for example <c>notice.delivery</c>). Never rename one.</summary>
    string Kind { get; }

    /// <summary>
    /// Returns up to <paramref name="limit"/> unfinished items due at <paramref name="now"/>, and marks each as
    /// enqueued until <paramref name="enqueuedUntil"/> with one conditional write, so that two reconcilers racing on
    /// two nodes claim an item once. With <paramref name="ignoreEnqueued"/> (a node's first pass after its start),
    /// items already marked as enqueued are claimed too: their job may have died with a node.
    /// </summary>
    Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset enqueuedUntil, int limit, bool ignoreEnqueued, CancellationToken cancellationToken);

    /// <summary>The due time of the oldest unfinished item due at <paramref name="now"/>, or <c>null</c> when none is.</summary>
    Task<DateTimeOffset?> OldestDueAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Moves one item to its end state. Idempotent: Hangfire retries, and an item may be enqueued twice, so a second
    /// run (or two at once) must find the item finished and change nothing. An unknown id is finished work.
    /// </summary>
    Task RunAsync(Guid id, CancellationToken cancellationToken);
}
