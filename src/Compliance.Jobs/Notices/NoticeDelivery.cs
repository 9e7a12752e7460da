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

    // One statement on each provider. PostgreSQL: the due rows are chosen once, in a materialized CTE (an IN subquery may
    // be run again per row, and then skips the rows this very statement updated and takes more than the limit), and two
    // reconcilers take disjoint rows (SKIP LOCKED; a row that changed meanwhile is checked again). SQLite (3.35+ for
    // RETURNING): one writer at a time, and the uncorrelated subquery runs once. {0} now, {1} enqueued until, {2} limit.
    private const string PostgresClaimSql = """
        WITH due AS MATERIALIZED (
            SELECT id FROM notices
            WHERE delivered_at IS NULL AND due_at <= {0}/*lease*/
            ORDER BY due_at
            LIMIT {2}
            FOR UPDATE SKIP LOCKED)
        UPDATE notices SET enqueued_until = {1}
        FROM due
        WHERE notices.id = due.id
        RETURNING notices.id AS "Value"
        """;

    private const string SqliteClaimSql = """
        UPDATE notices SET enqueued_until = {1}
        WHERE id IN (
            SELECT id FROM notices
            WHERE delivered_at IS NULL AND due_at <= {0}/*lease*/
            ORDER BY due_at
            LIMIT {2})
        RETURNING id AS "Value"
        """;

    private const string LeaseOver = " AND (enqueued_until IS NULL OR enqueued_until <= {0})";

    public string Kind => WorkKind;

    public async Task<IReadOnlyList<Guid>> ClaimDueAsync(
        DateTimeOffset now, DateTimeOffset enqueuedUntil, int limit, bool ignoreEnqueued, CancellationToken cancellationToken)
    {
        if (limit < 1)
        {
            return [];
        }

        var sql = (db.Database.IsSqlite() ? SqliteClaimSql : PostgresClaimSql)
            .Replace("/*lease*/", ignoreEnqueued ? "" : LeaseOver, StringComparison.Ordinal);
        return await db.Database.SqlQueryRaw<Guid>(sql, db.StoredTime(now.ToUniversalTime()), db.StoredTime(enqueuedUntil.ToUniversalTime()), limit)
            .ToListAsync(cancellationToken);
    }

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
