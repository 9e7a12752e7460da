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
/// <param name="ExpectedCurrentEventId">
/// When set, the event is appended only if the current state of this subject, partner and purpose is still the one
/// this event made, checked under the append lock; otherwise the draft is dropped silently (neither appended nor
/// returned). A decision taken on a state read earlier (a job's expiry, a withdrawal) then records once however many
/// nodes or patients race it.
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
    Guid? ExpectedCurrentEventId = null);

/// <summary>An event as appended.</summary>
public sealed record AppendedConsentEvent(Guid EventId, long LeafIndex, DateTimeOffset AppendedAt, ConsentEventDraft Draft, DateTimeOffset? ExpiresAt);
