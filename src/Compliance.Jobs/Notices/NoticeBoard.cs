using Compliance.Data.Model;
using Compliance.Jobs.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs.Notices;

/// <summary>The <see cref="INotices"/> seam on the compliance store; <see cref="NoticeDelivery"/> makes posted notices visible.</summary>
internal sealed class NoticeBoard(
    ComplianceDbContext db,
    IJobScheduler scheduler,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<NoticeBoard> logger) : INotices
{
    public async Task<Guid> PostAsync(Guid accountId, NoticeFacts facts, DateTimeOffset? deliverAt, CancellationToken cancellationToken)
    {
        if (accountId == Guid.Empty)
        {
            throw new ArgumentException("A notice goes to an account: its internal subject id is never empty.", nameof(accountId));
        }

        ArgumentNullException.ThrowIfNull(facts);
        var now = time.GetUtcNow();

        // In UTC: SQLite keeps times as sortable integers of the clock time and its offset, which sort right only in UTC.
        var dueAt = deliverAt?.ToUniversalTime() is { } later && later > now ? later : now;
        var inCallersTransaction = db.Database.CurrentTransaction is not null;
        var notice = new NoticeRecord
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            Kind = facts.Kind,
            ClientId = facts.ClientId,
            RequestId = facts.RequestId,
            OccurredAt = facts.OccurredAt,
            DeadlineAt = facts.DeadlineAt,
            CreatedAt = now,
            DueAt = dueAt,
            // The job enqueued below holds the delivery until its lease runs out; inside the caller's transaction there
            // is no job (it could run before the commit), so the reconciler takes the notice at its first pass once due.
            EnqueuedUntil = inCallersTransaction ? null : dueAt + options.Value.EnqueuedLease,
        };
        db.Add(notice);
        await db.SaveChangesAsync(cancellationToken);
        var kind = NoticeKinds.Name(notice.Kind);
        NoticesLog.Posted(logger, notice.Id, kind, dueAt);
        if (inCallersTransaction)
        {
            NoticesLog.PostedInTransaction(logger, notice.Id);
            return notice.Id;
        }

        try
        {
            if (dueAt > now)
            {
                scheduler.Schedule(NoticeDelivery.WorkKind, notice.Id, dueAt);
            }
            else
            {
                scheduler.Enqueue(NoticeDelivery.WorkKind, notice.Id);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The row is the record and it is saved; the job was only a nudge, which the reconciler gives again after the lease.
            NoticesLog.NudgeFailed(logger, notice.Id, e);
        }

        return notice.Id;
    }

    public async Task<IReadOnlyList<Notice>> ListAsync(Guid accountId, int limit, CancellationToken cancellationToken)
    {
        if (limit < 1)
        {
            return [];
        }

        var rows = await db.Set<NoticeRecord>().AsNoTracking()
            .Where(n => n.AccountId == accountId && n.DeliveredAt != null)
            .OrderBy(n => n.ReadAt == null ? 0 : 1)
            .ThenByDescending(n => n.DeliveredAt)
            .ThenByDescending(n => n.Id)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(n => new Notice(n.Id, n.Facts, n.DeliveredAt!.Value, n.ReadAt))];
    }

    public Task<int> CountUnreadAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<NoticeRecord>().CountAsync(n => n.AccountId == accountId && n.DeliveredAt != null && n.ReadAt == null, cancellationToken);

    public async Task<bool> MarkReadAsync(Guid accountId, Guid noticeId, CancellationToken cancellationToken)
    {
        // One conditional write: the owner's delivered, unread notice, or nothing at all.
        DateTimeOffset? now = time.GetUtcNow();
        var marked = await db.Set<NoticeRecord>()
            .Where(n => n.Id == noticeId && n.AccountId == accountId && n.DeliveredAt != null && n.ReadAt == null)
            .ExecuteUpdateAsync(setters => setters.SetProperty(n => n.ReadAt, now), cancellationToken);
        return marked == 1
            || await db.Set<NoticeRecord>().AnyAsync(n => n.Id == noticeId && n.AccountId == accountId && n.DeliveredAt != null, cancellationToken);
    }
}
