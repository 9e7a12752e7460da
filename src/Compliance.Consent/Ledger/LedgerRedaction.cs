using Compliance.Consent.Outbox;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Ledger;

/// <summary>
/// Erases a subject's consent records while the log stays verifiable: each payload and its salt become NULL (the one
/// change the payload table accepts), and the derived lookups (the subject's events, the current state) are deleted.
/// The leaves stay: they hold an index, an event id, a time and a commitment to a salted hash that nobody can open
/// any more, so no purpose, state or day can be guessed back from them. The partners' feed rows (pairwise sub, purpose,
/// type, day) go with them: nothing is left to pull, push or retry. A partner's idempotency record keeps its key and
/// event id, but the hash of its request (which commits to the sub, purpose and decision) becomes
/// <see cref="LedgerRedaction.ErasedRequestHash"/>: a retry of that key is told the request was erased (410), and does
/// not record the consent again.
/// </summary>
public interface ILedgerRedaction
{
    /// <summary>Redacts every event of the subject in one transaction; returns how many were redacted. Idempotent.</summary>
    Task<int> RedactSubjectAsync(Guid subjectId, CancellationToken cancellationToken);
}

internal sealed class LedgerRedaction(ComplianceDbContext db) : ILedgerRedaction
{
    /// <summary>What an erased partner request's hash becomes: no SHA-256 of a request is 32 zero bytes.</summary>
    public static readonly byte[] ErasedRequestHash = new byte[32];

    public async Task<int> RedactSubjectAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var events = db.Set<ConsentSubjectEvent>().Where(e => e.SubjectId == subjectId).Select(e => e.EventId);
        var redacted = await db.Set<ConsentPayload>()
            .Where(p => events.Contains(p.EventId) && (p.Payload != null || p.Salt != null))
            .ExecuteUpdateAsync(update => update.SetProperty(p => p.Payload, (byte[]?)null).SetProperty(p => p.Salt, (byte[]?)null), cancellationToken);
        await db.Set<ConsentStanding>().Where(s => s.SubjectId == subjectId).ExecuteDeleteAsync(cancellationToken);
        await db.Set<OutboxEvent>().Where(o => events.Contains(o.EventId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<ConsentPartnerRequest>().Where(r => events.Contains(r.EventId))
            .ExecuteUpdateAsync(update => update.SetProperty(r => r.RequestHash, ErasedRequestHash), cancellationToken);
        await db.Set<ConsentSubjectEvent>().Where(e => e.SubjectId == subjectId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return redacted;
    }
}
