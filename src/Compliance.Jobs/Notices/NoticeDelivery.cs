using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Jobs.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Notices;

/// <summary>
/// Delivers posted notices once due: the notice becomes visible and a <c>notice.delivered</c> audit row is written, in
/// one transaction, behind a conditional update of <c>delivered_at</c>, so that a retry or two runs at once deliver it
/// once and write one row.
/// </summary>
internal sealed class NoticeDelivery(
    ComplianceDbContext db,
    IAuditTrail trail,
    IAuditActor actor,
    TimeProvider time,
    ILogger<NoticeDelivery> logger) : IDueWork
{
    public const string WorkKind = "notice.delivery";

    public string Kind => WorkKind;

    public Task<IReadOnlyList<Guid>> ClaimDueAsync(
        DateTimeOffset now, DateTimeOffset enqueuedUntil, int limit, bool ignoreEnqueued, CancellationToken cancellationToken) =>
        DueClaims.ClaimAsync(db, "notices", "id", "delivered_at IS NULL", now, enqueuedUntil, limit, ignoreEnqueued, cancellationToken);

    public async Task<DateTimeOffset?> OldestDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        now = now.ToUniversalTime();
        return await db.Set<NoticeRecord>().AsNoTracking()
            .Where(n => n.DeliveredAt == null && n.DueAt <= now)
            .OrderBy(n => n.DueAt)
            .Select(n => (DateTimeOffset?)n.DueAt)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task RunAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var notice = await db.Set<NoticeRecord>().AsNoTracking()
            .Where(n => n.Id == id)
            .Select(n => new { n.AccountId, n.Kind, n.DeliveredAt, n.DueAt })
            .FirstOrDefaultAsync(cancellationToken);

        // Unknown and delivered are finished work. A run before the due time (a clock ahead of ours) leaves the notice to
        // the reconciler, which enqueues it again once due and its lease is over.
        if (notice is null || notice.DeliveredAt is not null || notice.DueAt > now)
        {
            NoticesLog.NothingToDeliver(logger, id);
            return;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        DateTimeOffset? deliveredAt = now;
        var delivered = await db.Set<NoticeRecord>()
            .Where(n => n.Id == id && n.DeliveredAt == null && n.DueAt <= now)
            .ExecuteUpdateAsync(setters => setters.SetProperty(n => n.DeliveredAt, deliveredAt), cancellationToken);
        if (delivered == 0)
        {
            // Another run delivered it since the read above; it wrote the audit row.
            NoticesLog.NothingToDeliver(logger, id);
            return;
        }

        var kind = NoticeKinds.Name(notice.Kind);
        trail.Append(AuditEventTypes.NoticeDelivered, actor.Name, notice.AccountId,
            JsonSerializer.Serialize(new Dictionary<string, string> { ["notice_id"] = id.ToString("D"), ["kind"] = kind }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        NoticesLog.Delivered(logger, id, kind);
    }
}
