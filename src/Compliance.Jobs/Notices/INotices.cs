namespace Compliance.Jobs.Notices;

/// <summary>
/// The patient's notices: what other features tell an account (a break-glass access, a request received, extended or
/// completed, a partner's erasure). A notice is posted now or for later; it is visible once delivered, which a job
/// does (<c>notice.delivery</c>) and the audit trail records. Registered by <c>AddComplianceNotices</c>.
/// </summary>
public interface INotices
{
    /// <summary>
    /// Posts a notice to <paramref name="accountId"/> (the internal subject id), delivered at once or at
    /// <paramref name="deliverAt"/> (a past time is now), and returns its id. The row is saved through the scope's
    /// compliance unit of work (with whatever else it holds). Outside a transaction, the delivery job is enqueued after
    /// the save; inside the caller's transaction it is not (it could run before the commit), and the reconciler's next
    /// pass enqueues it once due.
    /// </summary>
    Task<Guid> PostAsync(Guid accountId, NoticeFacts facts, DateTimeOffset? deliverAt, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> delivered notices of the account: unread first, then newest first. A notice not yet delivered is not listed.</summary>
    Task<IReadOnlyList<Notice>> ListAsync(Guid accountId, int limit, CancellationToken cancellationToken);

    /// <summary>How many delivered notices of the account are unread.</summary>
    Task<int> CountUnreadAsync(Guid accountId, CancellationToken cancellationToken);

    /// <summary>
    /// Marks one of the account's delivered notices read (once: a second call keeps the first time). Returns
    /// <c>false</c>, changing nothing, when no delivered notice of this account has that id: another account's notice is
    /// not found, exactly like an id that does not exist.
    /// </summary>
    Task<bool> MarkReadAsync(Guid accountId, Guid noticeId, CancellationToken cancellationToken);
}
