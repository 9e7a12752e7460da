using Compliance.Consent.Ledger;

namespace Compliance.Consent;

/// <summary>
/// The consent ledger: append-only consent events in a Merkle log, and the current state they add up to. Other
/// modules record through this seam (the consent screen and the account pages do it through <c>IConsentDecisions</c>).
/// </summary>
public interface IConsentLedger
{
    /// <summary>
    /// Appends the events in this order, all or none, and moves the current state in the same transaction. Returns
    /// after the commit. Throws <see cref="ConsentLedgerException"/> when the policies refuse a draft (unknown purpose
    /// or notice version, a purpose that does not rest on consent, an unknown partner) or the ledger refuses appends.
    /// A draft with <see cref="ConsentEventDraft.ExpectedCurrentEventId"/> whose state moved meanwhile is left out,
    /// and so is missing from the result.
    /// </summary>
    Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IReadOnlyList<ConsentEventDraft> events, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a partner request's events together with its idempotency <paramref name="claim"/>, in one transaction.
    /// When the key was already recorded nothing is appended and <see cref="ConsentLedgerException"/> with the code
    /// <c>duplicate_request</c> is thrown: the caller reads the earlier request back.
    /// </summary>
    Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IReadOnlyList<ConsentEventDraft> events, PartnerRequestClaim claim, CancellationToken cancellationToken);

    /// <summary>The subject's current state per partner and purpose.</summary>
    Task<IReadOnlyList<ConsentStandingView>> StandingAsync(Guid subjectId, CancellationToken cancellationToken);

    /// <summary>The subject's events, newest first (those not redacted).</summary>
    Task<IReadOnlyList<ConsentEventView>> EventsAsync(Guid subjectId, CancellationToken cancellationToken);
}

/// <summary>The current state of one purpose for one partner.</summary>
public sealed record ConsentStandingView(string ClientId, string PurposeId, ConsentState State, Guid EventId, string? NoticeVersion, DateTimeOffset OccurredAt, DateTimeOffset? ExpiresAt);

/// <summary>One event of a subject.</summary>
public sealed record ConsentEventView(Guid EventId, long LeafIndex, string ClientId, string PurposeId, ConsentState State, DateTimeOffset OccurredAt);
