using Compliance.Consent.Outbox;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Ledger;

internal sealed class ConsentLedger(ComplianceDbContext db, ConsentRecords records, OutboxEntries outbox, LedgerAppender appender, TimeProvider time) : IConsentLedger
{
    /// <summary>The most events one call may append (one per purpose of one decision, in practice a handful).</summary>
    public const int MaxEventsPerAppend = 64;

    public Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IReadOnlyList<ConsentEventDraft> events, CancellationToken cancellationToken) =>
        AppendAsync(events, claim: null, cancellationToken);

    public async Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IReadOnlyList<ConsentEventDraft> events, PartnerRequestClaim? claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count is 0 or > MaxEventsPerAppend)
        {
            throw new ConsentLedgerException("bad_batch", $"An append holds 1 to {MaxEventsPerAppend} events.");
        }

        var prepared = new List<PreparedEvent>(events.Count);
        foreach (var draft in events)
        {
            var eventId = Guid.CreateVersion7(time.GetUtcNow());
            var (payload, expiresAt) = await records.BuildAsync(eventId, draft, cancellationToken);
            prepared.Add(new PreparedEvent(eventId, draft, payload, expiresAt, await outbox.ForAsync(draft, cancellationToken), prepared.Count == 0 ? claim : null));
        }

        IReadOnlyList<AppendedConsentEvent> appended;
        try
        {
            appended = await appender.AppendAsync(prepared, cancellationToken);
        }
        catch (Exception duplicate) when (claim is not null && StoreConflicts.IsUniqueViolation(duplicate))
        {
            throw new ConsentLedgerException("duplicate_request", "This idempotency key was already recorded.");
        }

        outbox.Nudge(prepared);
        return appended;
    }

    public async Task<IReadOnlyList<ConsentStandingView>> StandingAsync(Guid subjectId, CancellationToken cancellationToken) =>
        await db.Set<ConsentStanding>().AsNoTracking().Where(s => s.SubjectId == subjectId)
            .OrderBy(s => s.ClientId).ThenBy(s => s.PurposeId)
            .Select(s => new ConsentStandingView(s.ClientId, s.PurposeId, s.State, s.EventId, s.NoticeVersion, s.OccurredAt, s.ExpiresAt))
            .ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<ConsentEventView>> EventsAsync(Guid subjectId, CancellationToken cancellationToken) =>
        await db.Set<ConsentSubjectEvent>().AsNoTracking().Where(e => e.SubjectId == subjectId)
            .OrderByDescending(e => e.LeafIndex)
            .Select(e => new ConsentEventView(e.EventId, e.LeafIndex, e.ClientId, e.PurposeId, e.State, e.OccurredAt))
            .ToListAsync(cancellationToken);
}
