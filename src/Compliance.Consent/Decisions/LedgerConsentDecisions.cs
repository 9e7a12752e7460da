using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Decisions;

/// <summary>
/// The consent screen's decisions, recorded in the ledger: one event per purpose shown (given, renewed or refused,
/// with the notice version rendered), then the partner's grant as before. A scope that rests on a consent-based purpose
/// is allowed only while that purpose's consent stands for that partner: given or renewed, not expired, and given
/// under a notice version no later material version has superseded.
/// </summary>
internal sealed class LedgerConsentDecisions(
    ConsentGrants grants, IConsentLedger ledger, ComplianceDbContext db, PolicySet policies, TimeProvider time) : IConsentDecisions, IStandingConsentFilter
{
    public const string PatientActor = "data-subject";

    public async Task RecordAsync(ConsentDecision decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Purposes.Count > 0)
        {
            var previous = await db.Set<ConsentStanding>().AsNoTracking()
                .Where(s => s.SubjectId == decision.SubjectId && s.ClientId == decision.ClientId)
                .ToDictionaryAsync(s => s.PurposeId, s => s.State, StringComparer.Ordinal, cancellationToken);
            await ledger.AppendAsync(
                [.. decision.Purposes.Select(choice => new ConsentEventDraft(
                    decision.SubjectId,
                    decision.ClientId,
                    choice.PurposeId,
                    StateOf(choice, previous),
                    choice.NoticeVersion,
                    decision.Language,
                    ConsentMethods.ConsentScreen,
                    PatientActor,
                    decision.DecidedAt))],
                cancellationToken);
        }

        await grants.RecordAsync(decision, cancellationToken);
    }

    /// <summary>A yes after an earlier yes (even lapsed or invalidated) renews it; after nothing, a refusal or a withdrawal, it is given.</summary>
    private static ConsentState StateOf(ConsentDecision.PurposeChoice choice, Dictionary<string, ConsentState> previous) =>
        !choice.Given ? ConsentState.Refused
        : previous.TryGetValue(choice.PurposeId, out var before) && before is ConsentState.Given or ConsentState.RenewedGiven or ConsentState.Expired or ConsentState.Invalidated
            ? ConsentState.RenewedGiven
            : ConsentState.Given;

    public async Task<IReadOnlySet<string>> AllowedScopesAsync(Guid subjectId, string clientId, CancellationToken cancellationToken) =>
        await FilterAsync(await grants.AllowedScopesAsync(subjectId, clientId, cancellationToken), subjectId, clientId, cancellationToken);

    public async Task<IReadOnlySet<string>> FilterAsync(IReadOnlySet<string> granted, Guid subjectId, string clientId, CancellationToken cancellationToken)
    {
        var resting = granted.Select(scope => (Scope: scope, Purpose: policies.PurposeForScope(scope))).Where(r => r.Purpose is not null).ToList();
        if (resting.Count == 0)
        {
            return granted;
        }

        var standing = await db.Set<ConsentStanding>().AsNoTracking()
            .Where(s => s.SubjectId == subjectId && s.ClientId == clientId)
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var allowed = new HashSet<string>(granted.Except(resting.Select(r => r.Scope)), StringComparer.Ordinal);
        foreach (var (scope, purpose) in resting)
        {
            if (purpose!.Retired)
            {
                continue;
            }

            if (!purpose.ConsentRequired || (standing.Find(s => s.PurposeId == purpose.Id) is { } row && Stands(row, purpose, now)))
            {
                allowed.Add(scope);
            }
        }

        return allowed;
    }

    /// <summary>Whether a purpose's current state allows processing now.</summary>
    public static bool Stands(ConsentStanding row, Purpose purpose, DateTimeOffset now) =>
        ConsentStates.AllowsProcessing(row.State)
        && (row.ExpiresAt is null || row.ExpiresAt > now)
        && !InvalidatedByMaterialNotice(row, purpose, now);

    /// <summary>A consent given under a notice version older than the latest material version in force must be asked again.</summary>
    public static bool InvalidatedByMaterialNotice(ConsentStanding row, Purpose purpose, DateTimeOffset now)
    {
        if (purpose.MaterialSince(now) is not { } since)
        {
            return false;
        }

        var notice = purpose.Notices.FirstOrDefault(n => n.Version == row.NoticeVersion);
        return notice is null || notice.EffectiveFrom < since;
    }
}
