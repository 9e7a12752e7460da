using Compliance.Consent.Decisions;
using Compliance.Consent.Ledger;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Subjects;
using Compliance.Policies;
using Microsoft.Extensions.Caching.Memory;

namespace Compliance.Consent.Partners;

/// <summary>The answer to "may this partner process this purpose for this subject now?".</summary>
/// <param name="Allowed">Whether processing is allowed now.</param>
/// <param name="Reason">
/// <c>given</c> or <c>renewed</c> when allowed; otherwise <c>no_consent</c>, <c>refused</c>, <c>withdrawn</c>,
/// <c>revoked</c>, <c>expired</c>, <c>invalidated</c> (a material notice superseded it), <c>requested</c> or
/// <c>purpose_retired</c>.
/// </param>
/// <param name="EventId">The ledger event that decides it; null when there is none.</param>
/// <param name="ExpiresAt">When an allowed consent lapses, if it does.</param>
public sealed record ConsentCheckResult(bool Allowed, string Reason, Guid? EventId, DateTimeOffset? ExpiresAt);

/// <summary>Why a check or a recording cannot be answered: a stable code the API returns as problem+json.</summary>
public sealed class PartnerConsentException(string code, string message, int status) : Exception(message)
{
    public string Code { get; } = code;

    public int Status { get; } = status;
}

/// <summary>
/// Answers consent checks for partners. What cannot change between two checks is cached (the partner, the policies,
/// which internal subject a pairwise <c>sub</c> names); the state itself is read from the shared store every time
/// (<see cref="ConsentStateReader"/>), because a state cached on one node is stale the moment another node appends.
/// </summary>
internal sealed class ConsentCheck(ConsentStateReader states, IPairwiseSubjects subjects, IMemoryCache cache, PolicySet policies, TimeProvider time)
{
    private static readonly TimeSpan SubjectCacheFor = TimeSpan.FromMinutes(10);

    public async Task<ConsentCheckResult> CheckAsync(Partner partner, string sub, string purposeId, CancellationToken cancellationToken)
    {
        var purpose = PurposeFor(partner, purposeId);
        var subjectId = await SubjectAsync(partner, sub, cancellationToken);
        var row = await states.ReadAsync(subjectId, partner.ClientId, purpose.Id, cancellationToken);
        return Decide(row, purpose, time.GetUtcNow());
    }

    /// <summary>
    /// The purpose a partner may ask about. A payer asking about a care or special-category purpose gets the same
    /// answer as for a purpose that does not exist: it must not learn even that such a purpose is declared.
    /// </summary>
    public Purpose PurposeFor(Partner partner, string purposeId)
    {
        var purpose = policies.FindPurpose(purposeId);
        if (purpose is null || (partner.IsPayer && purpose.ForbiddenToPayers))
        {
            throw new PartnerConsentException("unknown_purpose", "No such purpose.", 404);
        }

        return purpose.ConsentRequired
            ? purpose
            : throw new PartnerConsentException("not_consent_based", $"Purpose '{purpose.Id}' rests on {purpose.LegalBasis.Id}, not on consent: the ledger does not decide it.", 400);
    }

    /// <summary>
    /// The internal subject behind the partner's own pairwise <c>sub</c>. Another partner's <c>sub</c> (another sector)
    /// names no one here, and gets the same answer as a <c>sub</c> that never existed.
    /// </summary>
    public async Task<Guid> SubjectAsync(Partner partner, string sub, CancellationToken cancellationToken)
    {
        var key = ("partner-sub", partner.Sector, sub);
        if (cache.TryGetValue(key, out Guid known))
        {
            return known;
        }

        // Unknown subs are not cached: a flood of random ones must not grow the cache.
        var subjectId = await subjects.ResolveAsync(partner.Sector, sub, cancellationToken)
            ?? throw new PartnerConsentException("unknown_subject", "No such subject for this partner.", 404);
        cache.Set(key, subjectId, SubjectCacheFor);
        return subjectId;
    }

    public static ConsentCheckResult Decide(StateRow? row, Purpose purpose, DateTimeOffset now)
    {
        if (row is null)
        {
            return new(false, "no_consent", null, null);
        }

        if (purpose.Retired)
        {
            return new(false, "purpose_retired", row.EventId, null);
        }

        if (!ConsentStates.AllowsProcessing(row.State))
        {
            return new(false, row.State.ToString().ToLowerInvariant(), row.EventId, null);
        }

        var standing = new ConsentStanding
        {
            ClientId = "", PurposeId = purpose.Id, State = row.State, EventId = row.EventId, NoticeVersion = row.NoticeVersion, ExpiresAt = row.ExpiresAt,
        };
        if (row.ExpiresAt is { } expires && expires <= now)
        {
            return new(false, "expired", row.EventId, expires);
        }

        return LedgerConsentDecisions.InvalidatedByMaterialNotice(standing, purpose, now)
            ? new(false, "invalidated", row.EventId, null)
            : new(true, row.State == ConsentState.RenewedGiven ? "renewed" : "given", row.EventId, row.ExpiresAt);
    }
}
