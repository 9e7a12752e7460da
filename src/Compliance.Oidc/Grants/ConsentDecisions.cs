using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Grants;

/// <summary>What the patient decided on the consent screen, and what they were shown.</summary>
public sealed record ConsentDecision(
    Guid SubjectId,
    string ClientId,
    IReadOnlyList<string> Scopes,
    bool Allowed,
    string Language,
    DateTimeOffset DecidedAt);

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

internal sealed class ConsentGrants(ComplianceDbContext db) : IConsentDecisions
{
    public async Task RecordAsync(ConsentDecision decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (!decision.Allowed)
        {
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
        var scopes = await db.Set<ConsentGrant>().AsNoTracking()
            .Where(g => g.SubjectId == subjectId && g.ClientId == clientId && g.RevokedAt == null)
            .Select(g => g.Scopes)
            .ToListAsync(cancellationToken);
        return scopes.SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
    }
}
