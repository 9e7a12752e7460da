using Compliance.Consent.Ledger;
using Compliance.Consent.Receipts;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Decisions;

/// <summary>The patient's account pages over the ledger: current states, history, one-action withdrawal, receipts.</summary>
internal sealed class PatientConsents(
    IConsentLedger ledger, IConsentReceipts receipts, WithdrawalCascade cascade, ComplianceDbContext db, PolicySet policies, TimeProvider time) : IPatientConsents
{
    public async Task<IReadOnlyList<PatientConsent>> CurrentAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return [.. (await RowsAsync(subjectId, cancellationToken)).Select(row => Show(row, now))];
    }

    public async Task<IReadOnlyList<PatientConsentEvent>> HistoryAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        var events = await ledger.EventsAsync(subjectId, cancellationToken);
        var recordedByPartner = await RecordedByPartnerAsync([.. events.Select(e => e.EventId)], cancellationToken);
        return [.. events.Select(e => new PatientConsentEvent(
            e.EventId, e.ClientId, e.PurposeId, ConsentStates.Name(e.State), e.OccurredAt, recordedByPartner.GetValueOrDefault(e.EventId)))];
    }

    // Who recorded an event is in its record only (the lookup table keeps no method): read from the stored bytes.
    private async Task<Dictionary<Guid, string>> RecordedByPartnerAsync(List<Guid> eventIds, CancellationToken cancellationToken)
    {
        var payloads = await db.Set<ConsentPayload>().AsNoTracking()
            .Where(p => eventIds.Contains(p.EventId) && p.Payload != null)
            .Select(p => new { p.EventId, p.Payload }).ToListAsync(cancellationToken);
        var recorded = new Dictionary<Guid, string>();
        foreach (var payload in payloads)
        {
            if (ConsentRecords.Read(payload.Payload).RecordedBy is { } by)
            {
                recorded[payload.EventId] = by.Name;
            }
        }

        return recorded;
    }

    public async Task<int> WithdrawAsync(Guid subjectId, string clientId, string? purposeId, string language, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var standing = (await RowsAsync(subjectId, cancellationToken))
            .Where(row => row.ClientId == clientId && (purposeId is null || row.PurposeId == purposeId) && Show(row, now).Stands)
            .ToList();
        if (standing.Count == 0)
        {
            return 0;
        }

        var purposes = standing.Select(c => c.PurposeId).ToList();
        await cascade.RevokeAsync(subjectId, clientId, purposes, cancellationToken);

        // Each withdrawal expects the state it read: of two at once (two tabs, two nodes), only the first is recorded.
        // Once revoking has begun, the patient closing the page must not stop the withdrawal half-way (recorded, but the
        // partner's session left open): from here on nothing listens to the request's cancellation.
        var appended = await ledger.AppendAsync(
            [.. standing.Select(row => new ConsentEventDraft(subjectId, clientId, row.PurposeId, ConsentState.Withdrawn, null,
                language is "fr" or "en" ? language : "fr", ConsentMethods.AccountPage, LedgerConsentDecisions.PatientActor, now, ExpectedCurrentEventId: row.EventId))],
            CancellationToken.None);

        // Idempotent: the losing one of two simultaneous withdrawals finds nothing more to revoke or end.
        await cascade.CompleteAsync(subjectId, clientId, purposes, CancellationToken.None);
        return appended.Count;
    }

    public Task<byte[]?> ReceiptAsync(Guid subjectId, Guid eventId, CancellationToken cancellationToken) =>
        receipts.ForSubjectAsync(subjectId, eventId, cancellationToken);

    private async Task<List<ConsentStanding>> RowsAsync(Guid subjectId, CancellationToken cancellationToken) =>
        await db.Set<ConsentStanding>().AsNoTracking().Where(s => s.SubjectId == subjectId)
            .OrderBy(s => s.ClientId).ThenBy(s => s.PurposeId).ToListAsync(cancellationToken);

    /// <summary>A row as the patient sees it now: a given consent past its validity or superseded shows as such before the job records it.</summary>
    private PatientConsent Show(ConsentStanding row, DateTimeOffset now)
    {
        var purpose = policies.FindPurpose(row.PurposeId);
        var stands = purpose is not null && !purpose.Retired && LedgerConsentDecisions.Stands(row, purpose, now);
        var state = ConsentStates.AllowsProcessing(row.State) && !stands && purpose is not null && LedgerConsentDecisions.InvalidatedByMaterialNotice(row, purpose, now)
            ? ConsentState.Invalidated
            : ConsentStates.AllowsProcessing(row.State) && row.ExpiresAt <= now ? ConsentState.Expired : row.State;
        return new PatientConsent(row.ClientId, row.PurposeId, ConsentStates.Name(state), stands, row.NoticeVersion, row.OccurredAt, row.ExpiresAt);
    }
}
