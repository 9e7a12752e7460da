using System.Text.Json;
using System.Text.Json.Serialization;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Subjects;
using Compliance.Policies;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Ledger;

/// <summary>
/// Builds the consent record of an event, the payload the leaf commits to: the ISO/IEC TS 27560 fields with DPV
/// states, as UTF-8 JSON. The stored bytes are the record: they are hashed as stored, never re-serialised.
/// </summary>
internal sealed class ConsentRecords(PolicySet policies, IPartnerDirectory partners, IPairwiseSubjects subjects, IOptions<OidcOptions> oidc)
{
    /// <summary>The largest payload the store accepts; a record is about 1.5 KB.</summary>
    public const int MaxPayloadBytes = 16_384;

    public const string Schema = "compliance.consent-record/1";

    /// <summary>Where a patient withdraws: one action on their account.</summary>
    public const string WithdrawalPath = "/account";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The record's bytes and the validity it gives; throws <see cref="ConsentLedgerException"/> on a draft the policies refuse.</summary>
    public async Task<(byte[] Payload, DateTimeOffset? ExpiresAt)> BuildAsync(Guid eventId, ConsentEventDraft draft, CancellationToken cancellationToken)
    {
        var purpose = policies.FindPurpose(draft.PurposeId)
            ?? throw new ConsentLedgerException("unknown_purpose", $"Purpose '{Printable(draft.PurposeId)}' is not declared in the policies.");
        if (!purpose.ConsentRequired)
        {
            throw new ConsentLedgerException("not_consent_based", $"Purpose '{purpose.Id}' rests on {purpose.LegalBasis.Id}, not on consent: it has no consent events.");
        }

        var partner = await partners.FindAsync(draft.ClientId, cancellationToken)
            ?? throw new ConsentLedgerException("unknown_partner", $"Client '{Printable(draft.ClientId)}' is not a registered partner.");
        // What ends a consent is always recorded (a policy change may have made a payer's purpose forbidden since it was
        // given, and the patient must still be able to withdraw it); what gives one never is.
        if (partner.IsPayer && purpose.ForbiddenToPayers && draft.State is not (ConsentState.Withdrawn or ConsentState.Revoked or ConsentState.Expired or ConsentState.Invalidated))
        {
            throw new ConsentLedgerException("purpose_not_allowed", "A payer or insurer is never granted a care or special-category purpose.");
        }

        NoticeVersion? notice = null;
        if (draft.NoticeVersion is not null)
        {
            notice = purpose.Notices.FirstOrDefault(n => n.Version == draft.NoticeVersion)
                ?? throw new ConsentLedgerException("unknown_notice", $"Notice version '{Printable(draft.NoticeVersion)}' is not declared for purpose '{purpose.Id}'.");
        }
        else if (draft.State is ConsentState.Given or ConsentState.RenewedGiven or ConsentState.Refused)
        {
            throw new ConsentLedgerException("notice_required", "A consent given or refused records the notice version shown.");
        }

        if (draft.Language is not ("fr" or "en"))
        {
            throw new ConsentLedgerException("bad_language", "The language is fr or en.");
        }

        var text = notice?.In(draft.Language) ?? (notice is { Texts.Count: > 0 } ? notice.Texts[0] : null);
        DateTimeOffset? expiresAt = ConsentStates.AllowsProcessing(draft.State) && purpose.Consent?.Validity is { } validity
            ? validity.AddTo(draft.OccurredAt)
            : null;
        var record = new ConsentRecord(
            Schema,
            eventId,
            new SubjectRef(await subjects.SubjectForAsync(draft.SubjectId, partner.Sector, cancellationToken), "pairwise-sub", partner.Sector),
            new ControllerRef(partner.ClientId, partner.ControllerName ?? partner.DisplayName, partner.DpoContact, partner.NoticeUrl),
            new PurposeRef(purpose.Id, purpose.DpvConcept, purpose.LegalBasis.Id, purpose.LegalBasis.DpvConcepts,
                [.. purpose.DataCategories.Select(c => new CategoryRef(c.Id, c.DpvConcept, c.SpecialCategory))]),
            notice is null ? null : new NoticeRef(notice.Version, text?.Language, text?.Url.ToString(), text?.Sha256),
            ConsentStates.Dpv(draft.State),
            ConsentStates.Name(draft.State),
            draft.Method,
            draft.Actor,
            draft.Language,
            draft.OccurredAt.ToUniversalTime(),
            expiresAt?.ToUniversalTime(),
            new WithdrawalRef(ConsentMethods.AccountPage, oidc.Value.IssuerUri + WithdrawalPath),
            policies.Fingerprint,
            draft.Evidence is { } evidence ? new RecordedByRef(partner.ClientId, partner.ControllerName ?? partner.DisplayName, evidence.Reference, evidence.CollectionMethod) : null);
        var payload = JsonSerializer.SerializeToUtf8Bytes(record, Json);
        return payload.Length <= MaxPayloadBytes
            ? (payload, expiresAt)
            : throw new ConsentLedgerException("record_too_large", "The consent record is larger than the ledger accepts.");
    }

    /// <summary>Reads a stored record back.</summary>
    public static ConsentRecord Read(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize<ConsentRecord>(payload, Json) ?? throw new FormatException("Not a consent record.");

    private static string Printable(string value) =>
        new([.. value.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
}

/// <summary>A consent record (ISO/IEC TS 27560 through DPV), as the ledger stores and receipts show it.</summary>
public sealed record ConsentRecord(
    string Schema,
    Guid RecordId,
    SubjectRef DataSubject,
    ControllerRef Controller,
    PurposeRef Purpose,
    NoticeRef? Notice,
    string State,
    string StateName,
    string Method,
    string Actor,
    string Language,
    DateTimeOffset OccurredAt,
    DateTimeOffset? ValidUntil,
    WithdrawalRef Withdrawal,
    string PolicyFingerprint,
    RecordedByRef? RecordedBy = null);

/// <summary>Set when the partner collected the consent in its own app and recorded it here, with its own reference.</summary>
public sealed record RecordedByRef(string ClientId, string Name, string Reference, string CollectionMethod);

public sealed record SubjectRef(string Id, string IdType, string Sector);

public sealed record ControllerRef(string ClientId, string Name, string? DpoContact, string? NoticeUrl);

public sealed record PurposeRef(string Id, string? Dpv, string LegalBasis, IReadOnlyList<string> LegalBasisDpv, IReadOnlyList<CategoryRef> DataCategories);

public sealed record CategoryRef(string Id, string? Dpv, bool SpecialCategory);

public sealed record NoticeRef(string Version, string? Language, string? Url, string? Sha256);

public sealed record WithdrawalRef(string Method, string Url);
