using System.Security.Cryptography;
using System.Text;
using Compliance.Consent.Decisions;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Partners;

/// <summary>A consent the partner collected in its own app, as it records it here.</summary>
/// <param name="Sub">The patient's pairwise <c>sub</c> as this partner knows it.</param>
/// <param name="Purpose">A consent-based purpose.</param>
/// <param name="Decision"><c>given</c>, <c>refused</c> or <c>withdrawn</c>.</param>
/// <param name="NoticeVersion">The notice version shown (required for given and refused).</param>
/// <param name="NoticeSha256">The SHA-256 of the exact text shown, which must be the declared text of that version.</param>
/// <param name="Language"><c>fr</c> or <c>en</c>: the language of the text shown.</param>
/// <param name="CollectedAt">When the patient decided.</param>
/// <param name="Reference">The partner's own reference for the collection.</param>
/// <param name="CollectionMethod">How the partner collected it, in its own words as a short token (<c>app-checkbox</c>, <c>web-form</c>, <c>paper-form</c>…).</param>
public sealed record PartnerConsentRequest(
    string? Sub, string? Purpose, string? Decision, string? NoticeVersion, string? NoticeSha256, string? Language, DateTimeOffset? CollectedAt, string? Reference,
    string? CollectionMethod);

/// <summary>What a recorded (or replayed) request answers.</summary>
public sealed record PartnerConsentRecorded(Guid EventId, string State, long LeafIndex, bool Replayed);

/// <summary>
/// Records a consent a partner collected itself, with its evidence, as a ledger event written by the partner. A request
/// carries an idempotency key: the same key with the same body returns the first answer and appends nothing; with
/// another body it is refused. A withdrawal stops the partner's tokens and sessions resting on the purpose.
/// </summary>
internal sealed class PartnerConsentRecording(
    ConsentCheck check, IConsentLedger ledger, WithdrawalCascade cascade, ComplianceDbContext db, TimeProvider time)
{
    /// <summary>How far back a partner may date a collection: it records what it collects, promptly.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public async Task<PartnerConsentRecorded> RecordAsync(Partner partner, string idempotencyKey, PartnerConsentRequest request, CancellationToken cancellationToken)
    {
        var hash = Hash(request);
        if (await ReplayAsync(partner, idempotencyKey, hash, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        var (sub, purposeId, decision, reference, method, collectedAt) = Validate(request);
        var purpose = check.PurposeFor(partner, purposeId);
        var subjectId = await check.SubjectAsync(partner, sub, cancellationToken);
        var notice = NoticeOf(purpose, request, decision);
        var current = await db.Set<ConsentStanding>().AsNoTracking()
            .Where(s => s.SubjectId == subjectId && s.ClientId == partner.ClientId && s.PurposeId == purpose.Id)
            .Select(s => new { s.State, s.EventId, s.OccurredAt }).FirstOrDefaultAsync(cancellationToken);
        var previous = current?.State;
        if (decision == "given" && current is not null && IsDecision(current.State) && collectedAt < LedgerAppender.Stored(current.OccurredAt))
        {
            // A consent the partner collected before the decision that stands (say, posted late after the patient withdrew
            // on /account) must not bring an earlier will back. Only a consent: a withdrawal or a refusal is never refused
            // for its time, since a partner's clock a little behind ours must not keep processing going (Art. 7(3)).
            // Compared at the precision partners' times are kept (LedgerAppender.Stored), so that an equal time is not earlier.
            return await ReplayAsync(partner, idempotencyKey, hash, cancellationToken)
                ?? throw new PartnerConsentException("outdated_decision",
                    "A later decision stands for this purpose; one collected before it cannot replace it. Nothing was recorded.", 409);
        }

        if (decision == "refused" && previous is { } standing && ConsentStates.AllowsProcessing(standing))
        {
            // Recorded as a refusal, the end of a standing consent would skip the withdrawal's revocations, logout and notices.
            return await ReplayAsync(partner, idempotencyKey, hash, cancellationToken)
                ?? throw new PartnerConsentException("consent_stands",
                    "A consent stands for this purpose: record its withdrawal (decision withdrawn), which ends what rests on it. Nothing was recorded.", 409);
        }

        var state = decision switch
        {
            "given" => previous is ConsentState.Given or ConsentState.RenewedGiven or ConsentState.Expired or ConsentState.Invalidated
                ? ConsentState.RenewedGiven
                : ConsentState.Given,
            "refused" => ConsentState.Refused,
            _ => ConsentState.Withdrawn,
        };
        if (state == ConsentState.Withdrawn && !(previous is { } before && ConsentStates.AllowsProcessing(before)))
        {
            // The withdrawal that left nothing to withdraw may be this key's own first request, committed since the lookup above.
            return await ReplayAsync(partner, idempotencyKey, hash, cancellationToken)
                ?? throw new PartnerConsentException("not_given", "No consent stands for this purpose: there is nothing to withdraw, and nothing was recorded.", 409);
        }

        if (state == ConsentState.Withdrawn)
        {
            await cascade.RevokeAsync(subjectId, partner.ClientId, [purpose.Id], cancellationToken);
        }

        var draft = new ConsentEventDraft(subjectId, partner.ClientId, purpose.Id, state, notice?.Version, request.Language ?? "fr",
            ConsentMethods.PartnerApi, "partner:" + partner.ClientId, collectedAt, new PartnerEvidence(reference, method),
            ExpectedCurrentEventId: current?.EventId ?? ConsentEventDraft.NoCurrentEvent);
        IReadOnlyList<AppendedConsentEvent> appended;
        try
        {
            // A withdrawal whose revocations have begun runs to its end, even if the partner hangs up while it is recorded.
            appended = await ledger.AppendAsync([draft], new PartnerRequestClaim(partner.ClientId, idempotencyKey, hash),
                state == ConsentState.Withdrawn ? CancellationToken.None : cancellationToken);
        }
        catch (ConsentLedgerException duplicate) when (duplicate.Code == "duplicate_request")
        {
            // The same key raced in from another request or node, and that one was recorded first.
            return await ReplayAsync(partner, idempotencyKey, hash, cancellationToken)
                ?? throw new PartnerConsentException("request_in_progress", "A request with this idempotency key is being recorded; retry it.", 409);
        }
        catch (ConsentLedgerException refused)
        {
            throw Refusal(refused);
        }

        if (state == ConsentState.Withdrawn && appended.Count > 0)
        {
            // Committed: the partner hanging up now must not leave its tokens and sessions standing.
            await cascade.CompleteAsync(subjectId, partner.ClientId, [purpose.Id], CancellationToken.None);
        }

        if (appended.Count == 0)
        {
            // A withdrawal expects the state it read; another decision came first, and nothing of this one was kept. When
            // that decision is this key's first request, this one is its retry: it gets the first answer, not a conflict.
            return await ReplayAsync(partner, idempotencyKey, hash, cancellationToken)
                ?? throw new PartnerConsentException("state_changed", "The consent changed while this request was recorded; nothing was recorded. Check it and retry.", 409);
        }

        return new PartnerConsentRecorded(appended[0].EventId, ConsentStates.Name(state), appended[0].LeafIndex, Replayed: false);
    }

    /// <summary>
    /// What a partner is told when the ledger refuses: a fixed message per code. The ledger's own message may name
    /// operator matters (tree sizes, a restored backup) that are none of a partner's business.
    /// </summary>
    private static PartnerConsentException Refusal(ConsentLedgerException refused) => refused.Code switch
    {
        "purpose_not_allowed" or "unknown_purpose" => new("unknown_purpose", "No such purpose.", 404),
        "ledger_behind_checkpoint" => new("ledger_unavailable", "The consent ledger cannot record now; nothing was recorded. Retry later.", 503),
        _ => new(refused.Code, "The consent ledger refused this event; nothing was recorded.", 422),
    };

    /// <summary>A decision by the patient, a partner or the controller, as opposed to what the service itself writes (expiry, invalidation).</summary>
    private static bool IsDecision(ConsentState state) =>
        state is ConsentState.Given or ConsentState.RenewedGiven or ConsentState.Refused or ConsentState.Withdrawn or ConsentState.Revoked;

    private async Task<PartnerConsentRecorded?> ReplayAsync(Partner partner, string key, byte[] hash, CancellationToken cancellationToken)
    {
        var earlier = await db.Set<ConsentPartnerRequest>().AsNoTracking()
            .FirstOrDefaultAsync(r => r.ClientId == partner.ClientId && r.IdempotencyKey == key, cancellationToken);
        if (earlier is null)
        {
            return null;
        }

        if (earlier.RequestHash.AsSpan().SequenceEqual(LedgerRedaction.ErasedRequestHash))
        {
            throw new PartnerConsentException("request_erased", "The request was recorded, then erased with the patient's data; nothing was recorded.", 410);
        }

        if (!CryptographicOperations.FixedTimeEquals(earlier.RequestHash, hash))
        {
            throw new PartnerConsentException("idempotency_key_reused", "This idempotency key was used with another request; nothing was recorded.", 422);
        }

        var recorded = await db.Set<ConsentSubjectEvent>().AsNoTracking().Where(e => e.EventId == earlier.EventId)
            .Select(e => new { e.State, e.LeafIndex }).FirstOrDefaultAsync(cancellationToken)
            ?? throw new PartnerConsentException("request_erased", "The request was recorded, then erased with the patient's data.", 410);
        return new PartnerConsentRecorded(earlier.EventId, ConsentStates.Name(recorded.State), recorded.LeafIndex, Replayed: true);
    }

    private (string Sub, string Purpose, string Decision, string Reference, string Method, DateTimeOffset CollectedAt) Validate(PartnerConsentRequest request)
    {
        static PartnerConsentException Bad(string message) => new("invalid_request", message, 400);
        if (!PartnerInput.IsSub(request.Sub))
        {
            throw Bad("sub: the patient's pairwise sub as this partner received it.");
        }

        if (!PartnerInput.IsPrintable(request.Purpose, 64))
        {
            throw Bad("purpose: a purpose id.");
        }

        if (request.Decision is not ("given" or "refused" or "withdrawn"))
        {
            throw Bad("decision: given, refused or withdrawn.");
        }

        if (request.Language is not (null or "fr" or "en"))
        {
            throw Bad("language: fr or en.");
        }

        if (!PartnerInput.IsPrintable(request.Reference, 100))
        {
            throw Bad("reference: the partner's own reference, 1 to 100 printable characters.");
        }

        if (request.CollectionMethod is not { Length: > 0 and <= 64 } method || !method.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw Bad("collection_method: how the partner collected it, 1 to 64 characters among a-z, 0-9 and '-' (app-checkbox, web-form, paper-form…).");
        }

        var now = time.GetUtcNow();
        if (request.CollectedAt is not { } collectedAt || collectedAt > now + ClockSkew || collectedAt < now - MaxAge)
        {
            throw Bad("collected_at: when the patient decided, in RFC 3339, within the last 7 days and not in the future.");
        }

        return (request.Sub!, request.Purpose!, request.Decision, request.Reference!, method, LedgerAppender.Stored(collectedAt));
    }

    // A given or refused consent proves which text was shown: the declared version and the SHA-256 of its exact text.
    private static Policies.NoticeVersion? NoticeOf(Policies.Purpose purpose, PartnerConsentRequest request, string decision)
    {
        if (decision == "withdrawn" && request.NoticeVersion is null)
        {
            return null;
        }

        var notice = request.NoticeVersion is { } version ? purpose.FindNotice(version) : null;
        if (notice is null || notice.Retired)
        {
            throw new PartnerConsentException("unknown_notice", "notice_version: a notice version declared (and not retired) for this purpose.", 422);
        }

        var text = notice.In(request.Language ?? "fr");
        return text is not null && request.NoticeSha256 is { Length: 64 } presented && string.Equals(presented, text.Sha256, StringComparison.OrdinalIgnoreCase)
            ? notice
            : throw new PartnerConsentException("notice_mismatch", "notice_sha256 is not the SHA-256 of that notice version's text in that language.", 422);
    }

    /// <summary>The request as a canonical string, hashed: the same fields give the same hash, whatever the JSON layout.</summary>
    private static byte[] Hash(PartnerConsentRequest request) => SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        request.Sub, request.Purpose, request.Decision, request.NoticeVersion, request.NoticeSha256?.ToLowerInvariant(), request.Language,
        request.CollectedAt?.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture), request.Reference, request.CollectionMethod)));
}
