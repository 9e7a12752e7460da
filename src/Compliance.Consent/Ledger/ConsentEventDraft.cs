namespace Compliance.Consent.Ledger;

/// <summary>How a consent was collected or changed (ISO/IEC TS 27560 "collection method").</summary>
public static class ConsentMethods
{
    /// <summary>The consent screen of an authorization request.</summary>
    public const string ConsentScreen = "consent-screen";

    /// <summary>The patient's own account pages ("My authorisations").</summary>
    public const string AccountPage = "account-page";

    /// <summary>Recorded by the partner, which collected it in its own app.</summary>
    public const string PartnerApi = "partner-api";

    /// <summary>Written by the service itself (expiry, invalidation by a material notice).</summary>
    public const string System = "system";
}

/// <summary>
/// A consent event before it is appended: who, which partner (the controller), which purpose, which state, under
/// which notice version, how, and when. The ledger fills in the rest of the record from the policies and the partner.
/// </summary>
/// <param name="SubjectId">The patient's internal id (never in the record: the record names the partner's pairwise <c>sub</c>).</param>
/// <param name="ClientId">The partner, controller of what it receives.</param>
/// <param name="PurposeId">A purpose of <c>policies/purposes.yaml</c>.</param>
/// <param name="State">The DPV state the event records.</param>
/// <param name="NoticeVersion">The notice version shown, when one was; it must be declared for the purpose.</param>
/// <param name="Language">The language the patient saw (<c>fr</c> or <c>en</c>).</param>
/// <param name="Method">One of <see cref="ConsentMethods"/>.</param>
/// <param name="Actor"><c>data-subject</c>, <c>system</c>, or <c>partner:CLIENT_ID</c>.</param>
/// <param name="OccurredAt">When the decision was made.</param>
/// <param name="Evidence">For a consent the partner collected in its own app: its evidence; null otherwise.</param>
/// <param name="ExpectedCurrentEventId">
/// When set, the event is appended only if the current state of this subject, partner and purpose is still the one
/// this event made, checked under the append lock; otherwise the draft is dropped silently (neither appended nor
/// returned). A decision taken on a state read earlier (a job's expiry, a withdrawal) then records once however many
/// nodes or patients race it. <see cref="NoCurrentEvent"/> expects that no state exists yet.
/// </param>
public sealed record ConsentEventDraft(
    Guid SubjectId,
    string ClientId,
    string PurposeId,
    ConsentState State,
    string? NoticeVersion,
    string Language,
    string Method,
    string Actor,
    DateTimeOffset OccurredAt,
    PartnerEvidence? Evidence = null,
    Guid? ExpectedCurrentEventId = null)
{
    /// <summary>As <see cref="ExpectedCurrentEventId"/>: the draft applies only while no event has decided this consent.</summary>
    public static readonly Guid NoCurrentEvent = Guid.Empty;
}

/// <summary>
/// What a partner that collected a consent itself vouches for, beyond the notice version (whose SHA-256 it must
/// present, checked against the policies) and the time: its own reference for the collection, so that its records and
/// ours can be matched. The record names the partner as the one who recorded it.
/// </summary>
/// <param name="Reference">The partner's reference: 1 to 100 printable characters, no personal data.</param>
/// <param name="CollectionMethod">How the partner collected it, as a short token (<c>app-checkbox</c>, <c>web-form</c>…).</param>
public sealed record PartnerEvidence(string Reference, string CollectionMethod);

/// <summary>
/// A partner request's idempotency key, written in the same transaction as its events: a second request with the same
/// key appends nothing (the store refuses the duplicate key).
/// </summary>
/// <param name="ClientId">The partner.</param>
/// <param name="Key">Its <c>Idempotency-Key</c>.</param>
/// <param name="RequestHash">SHA-256 of the canonical request, so that a key reused with another body is recognised.</param>
public sealed record PartnerRequestClaim(string ClientId, string Key, byte[] RequestHash);

/// <summary>An event as appended.</summary>
public sealed record AppendedConsentEvent(Guid EventId, long LeafIndex, DateTimeOffset AppendedAt, ConsentEventDraft Draft, DateTimeOffset? ExpiresAt);
