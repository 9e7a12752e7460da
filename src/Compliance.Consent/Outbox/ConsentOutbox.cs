using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Jobs.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The partners' consent events (GDPR Art. 19): the feed a partner pulls after a cursor, and the failed webhook
/// deliveries that operators see and send again. Nothing here names an internal subject id.
/// </summary>
public interface IConsentOutbox
{
    /// <summary>
    /// Up to <paramref name="limit"/> events of <paramref name="clientId"/> whose cursor is greater than
    /// <paramref name="after"/> (all when null), in cursor order. The cursor is the ledger's leaf index: gapless and in
    /// commit order, so a page after cursor N never misses an event committed later.
    /// </summary>
    Task<PartnerEventPage> EventsAsync(string clientId, long? after, int limit, CancellationToken cancellationToken);

    /// <summary>The failed deliveries, oldest event first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<FailedDelivery>> FailedAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a failed delivery again, now, with a new deadline (audited as <c>consent.webhook_retried</c>). Returns
    /// false, changing nothing, when no failed delivery has that event id.
    /// </summary>
    Task<bool> RetryAsync(Guid eventId, CancellationToken cancellationToken);
}

/// <summary>One event of a partner's feed: what its SET carries, and when the consent changed.</summary>
public sealed record PartnerEvent(Guid Jti, string Type, string Sub, string Purpose, long Cursor, DateTimeOffset OccurredAt);

/// <summary>A page of the feed and the cursor to ask after next (the last event's, or the one asked after when empty).</summary>
public sealed record PartnerEventPage(IReadOnlyList<PartnerEvent> Events, long? NextCursor);

/// <summary>A delivery given up, as operators see it: no personal data, no URL, no response body.</summary>
public sealed record FailedDelivery(string ClientId, Guid EventId, string Type, DateTimeOffset CreatedAt, int Attempts, string? LastError, DateTimeOffset FailedAt);

internal sealed class ConsentOutbox(
    ComplianceDbContext db,
    IAuditTrail trail,
    IAuditActor actor,
    IOptions<OutboxOptions> options,
    IServiceProvider services,
    TimeProvider time,
    ILogger<ConsentOutbox> logger) : IConsentOutbox
{
    /// <summary>The largest page of the feed.</summary>
    public const int MaxPage = 500;

    public async Task<PartnerEventPage> EventsAsync(string clientId, long? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPage);
        var from = after ?? -1;
        var events = await db.Set<OutboxEvent>().AsNoTracking()
            .Where(e => e.ClientId == clientId && e.LeafIndex > from)
            .OrderBy(e => e.LeafIndex)
            .Take(limit)
            .Select(e => new PartnerEvent(e.EventId, e.EventType, e.Subject, e.PurposeId, e.LeafIndex, e.OccurredAt))
            .ToListAsync(cancellationToken);
        return new PartnerEventPage(events, events.Count > 0 ? events[^1].Cursor : after);
    }

    public async Task<IReadOnlyList<FailedDelivery>> FailedAsync(int limit, CancellationToken cancellationToken) =>
        await db.Set<OutboxEvent>().AsNoTracking()
            .Where(e => e.FailedAt != null)
            .OrderBy(e => e.LeafIndex)
            .Take(limit)
            .Select(e => new FailedDelivery(e.ClientId, e.EventId, e.EventType, e.CreatedAt, e.Attempts, e.LastError, e.FailedAt!.Value))
            .ToListAsync(cancellationToken);

    public async Task<bool> RetryAsync(Guid eventId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        DateTimeOffset? dueAt = now;
        var giveUpAt = now + options.Value.GiveUpAfter;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await db.Set<OutboxEvent>().AsNoTracking()
            .Where(e => e.EventId == eventId && e.FailedAt != null)
            .Select(e => new { e.ClientId, e.EventType })
            .FirstOrDefaultAsync(cancellationToken);
        var retried = row is not null && await db.Set<OutboxEvent>()
            .Where(e => e.EventId == eventId && e.FailedAt != null)
            .ExecuteUpdateAsync(
                s => s.SetProperty(e => e.FailedAt, (DateTimeOffset?)null).SetProperty(e => e.DueAt, dueAt)
                    .SetProperty(e => e.GiveUpAt, giveUpAt).SetProperty(e => e.EnqueuedUntil, (DateTimeOffset?)null),
                cancellationToken) == 1;
        if (!retried)
        {
            return false;
        }

        trail.Append(AuditEventTypes.ConsentWebhookRetried, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["client_id"] = row!.ClientId,
            ["event_id"] = eventId.ToString("D"),
            ["type"] = row.EventType,
        }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        OutboxLog.Retried(logger, eventId, row.ClientId);

        // A nudge only: without it (or if its job store is this process's memory), a server's reconciler takes the row.
        try
        {
            services.GetService<IJobScheduler>()?.Enqueue(WebhookDelivery.WorkKind, eventId);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            OutboxLog.NudgeFailed(logger, eventId, e);
        }

        return true;
    }
}
