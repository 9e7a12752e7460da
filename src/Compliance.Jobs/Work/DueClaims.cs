using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Jobs.Work;

/// <summary>
/// The claim of <see cref="IDueWork.ClaimDueAsync"/> for a table of due items, in one statement on each provider.
/// PostgreSQL: the due rows are chosen once, in a materialized CTE (an IN subquery may be run again per row, and then
/// skips the rows this very statement updated and takes more than the limit), and two reconcilers take disjoint rows
/// (SKIP LOCKED; a row that changed meanwhile is checked again). SQLite (3.35+ for RETURNING): one writer at a time, and
/// the uncorrelated subquery runs once. The table needs <c>due_at</c> and <c>enqueued_until</c> columns.
/// </summary>
public static class DueClaims
{
    /// <summary>
    /// Marks up to <paramref name="limit"/> unfinished rows due at <paramref name="now"/> as enqueued until
    /// <paramref name="enqueuedUntil"/> and returns their keys. <paramref name="table"/>, <paramref name="key"/> and
    /// <paramref name="unfinished"/> (a condition such as <c>delivered_at IS NULL</c>) are the caller's constants,
    /// never input.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> ClaimAsync(
        ComplianceDbContext db, string table, string key, string unfinished,
        DateTimeOffset now, DateTimeOffset enqueuedUntil, int limit, bool ignoreEnqueued, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (limit < 1)
        {
            return [];
        }

        // {0} now, {1} enqueued until, {2} limit; without ignoreEnqueued, a row still leased to a job is left alone.
        var due = unfinished + " AND due_at <= {0}" + (ignoreEnqueued ? "" : " AND (enqueued_until IS NULL OR enqueued_until <= {0})");
        var sql = db.Database.IsSqlite()
            ? $$"""
                UPDATE {{table}} SET enqueued_until = {1}
                WHERE {{key}} IN (SELECT {{key}} FROM {{table}} WHERE {{due}} ORDER BY due_at LIMIT {2})
                RETURNING {{key}} AS "Value"
                """
            : $$"""
                WITH due AS MATERIALIZED (SELECT {{key}} FROM {{table}} WHERE {{due}} ORDER BY due_at LIMIT {2} FOR UPDATE SKIP LOCKED)
                UPDATE {{table}} SET enqueued_until = {1}
                FROM due
                WHERE {{table}}.{{key}} = due.{{key}}
                RETURNING {{table}}.{{key}} AS "Value"
                """;
        return await db.Database.SqlQueryRaw<Guid>(sql, db.StoredTime(now.ToUniversalTime()), db.StoredTime(enqueuedUntil.ToUniversalTime()), limit)
            .ToListAsync(cancellationToken);
    }
}
