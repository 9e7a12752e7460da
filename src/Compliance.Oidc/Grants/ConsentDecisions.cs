using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Grants;

/// <summary>
/// What the patient decided on the consent screen, and what they were shown. <see cref="Scopes"/> are the scopes
/// actually allowed (without those of refused purposes); <see cref="Purposes"/> holds one choice per consent-based
/// purpose shown, each with the exact notice version rendered, given or refused, for this partner.
/// </summary>
public sealed record ConsentDecision(
    Guid SubjectId,
    string ClientId,
    IReadOnlyList<string> Scopes,
    bool Allowed,
    string Language,
    DateTimeOffset DecidedAt)
{
    /// <summary>One choice per consent-based purpose shown on the screen; empty when none was (only <c>openid</c>, <c>offline_access</c> or non-consent purposes).</summary>
    public IReadOnlyList<PurposeChoice> Purposes { get; init; } = [];

    /// <summary>
    /// The patient's choice for one consent-based purpose: given (box ticked, then "Allow") or refused (unticked, or
    /// "Deny"), under the notice version the page showed, in <see cref="Language"/>.
    /// </summary>
    public sealed record PurposeChoice(string PurposeId, string NoticeVersion, bool Given);
}

/// <summary>
/// The one seam every consent decision of the authorization flow goes through. The default remembers an allowed
/// decision as a grant; the consent ledger will decorate it to record each decision as a verifiable event.
/// </summary>
public interface IConsentDecisions
{
    Task RecordAsync(ConsentDecision decision, CancellationToken cancellationToken);

    /// <summary>The scopes the subject currently allows the client, or an empty set.</summary>
    Task<IReadOnlySet<string>> AllowedScopesAsync(Guid subjectId, string clientId, CancellationToken cancellationToken);
}

internal sealed class ConsentGrants(ComplianceDbContext db, IAuditTrail trail) : IConsentDecisions
{
    /// <summary>The actor of a consent decision: the patient, whose internal id is the row's subject.</summary>
    public const string PatientActor = "patient";

    public async Task RecordAsync(ConsentDecision decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);

        // Client id and scope names only: enumerated values, never free text. Saved with the grant, or not at all.
        var details = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["client_id"] = decision.ClientId,
            ["scopes"] = decision.Scopes.Order(StringComparer.Ordinal).ToArray(),
        });
        trail.Append(decision.Allowed ? AuditEventTypes.ConsentGiven : AuditEventTypes.ConsentRefused, PatientActor, decision.SubjectId, details);
        if (!decision.Allowed)
        {
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var grant = await db.Set<ConsentGrant>()
            .FirstOrDefaultAsync(g => g.SubjectId == decision.SubjectId && g.ClientId == decision.ClientId && g.RevokedAt == null, cancellationToken);
        if (grant is null)
        {
            db.Add(new ConsentGrant
            {
                Id = Guid.CreateVersion7(),
                SubjectId = decision.SubjectId,
                ClientId = decision.ClientId,
                Scopes = string.Join(' ', decision.Scopes.Order(StringComparer.Ordinal)),
                CreatedAt = decision.DecidedAt,
                UpdatedAt = decision.DecidedAt,
            });
        }
        else
        {
            grant.Scopes = string.Join(' ', grant.Scopes.Split(' ').Union(decision.Scopes).Order(StringComparer.Ordinal));
            grant.UpdatedAt = decision.DecidedAt;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlySet<string>> AllowedScopesAsync(Guid subjectId, string clientId, CancellationToken cancellationToken)
    {
        var rows = new List<string>();
        await foreach (var scopes in StandingScopes.For(db)(db, subjectId, clientId).WithCancellation(cancellationToken))
        {
            rows.Add(scopes);
        }

        return ScopesOf(rows);
    }

    /// <summary>The scopes that standing grant rows (their space-separated <c>scopes</c>) allow together.</summary>
    internal static IReadOnlySet<string> ScopesOf(IEnumerable<string> standingRows)
    {
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scopes in standingRows)
        {
            allowed.UnionWith(scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        return allowed;
    }

    // Read on every code exchange and refresh: compiled once.
    private static readonly CompiledQueries<Func<ComplianceDbContext, Guid, string, IAsyncEnumerable<string>>> StandingScopes =
        new(() => EF.CompileAsyncQuery((ComplianceDbContext db, Guid subjectId, string clientId) =>
            db.Set<ConsentGrant>().AsNoTracking().Where(g => g.SubjectId == subjectId && g.ClientId == clientId && g.RevokedAt == null).Select(g => g.Scopes)));
}
