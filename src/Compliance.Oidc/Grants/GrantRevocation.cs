using Compliance.Data.Model;
using Compliance.Oidc.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Grants;

/// <summary>
/// Revokes at once everything issued to a subject, or to a subject for one client: remembered consents, unused codes,
/// refresh tokens and access tokens. The rights and consent modules call this seam; they never touch the tables.
/// </summary>
public interface IGrantRevocation
{
    /// <summary>Revokes everything the subject was ever issued, for every client. Returns the number of records revoked.</summary>
    Task<int> RevokeSubjectAsync(Guid subjectId, CancellationToken cancellationToken);

    /// <summary>Revokes everything the subject was issued for one client. Returns the number of records revoked.</summary>
    Task<int> RevokeSubjectClientAsync(Guid subjectId, string clientId, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes what the subject was issued for one client that carries any of <paramref name="scopes"/> (a withdrawn
    /// purpose's scopes): unused codes, and the whole token family (refresh and access tokens) of every grant that
    /// carries one. A family whose scope is not on record is revoked too: when in doubt, a withdrawal stops more, not
    /// less. The grant itself stays; the consent ledger no longer lets it yield those scopes. Returns the records revoked.
    /// </summary>
    Task<int> RevokeSubjectClientScopesAsync(Guid subjectId, string clientId, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes everything a client was issued, for every subject, inside the caller's transaction if there is one
    /// (the client's removal). Returns the number of records revoked.
    /// </summary>
    Task<int> RevokeClientAsync(string clientId, CancellationToken cancellationToken);
}

internal sealed class GrantRevocation(ComplianceDbContext db, ISessionTermination sessions, TimeProvider time) : IGrantRevocation
{
    /// <summary>Also ends the subject's sign-in sessions (erasure): partners are told by back-channel logout.</summary>
    public async Task<int> RevokeSubjectAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        var count = await RevokeAsync(subjectId, clientId: null, cancellationToken);
        return count + await sessions.EndSubjectSessionsAsync(subjectId, SessionEndReasons.Erased, cancellationToken);
    }

    public Task<int> RevokeSubjectClientAsync(Guid subjectId, string clientId, CancellationToken cancellationToken) =>
        RevokeAsync(subjectId, clientId, cancellationToken);

    public async Task<int> RevokeSubjectClientScopesAsync(Guid subjectId, string clientId, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        bool Carries(string scope) => scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(scopes.Contains);
        var now = time.GetUtcNow();
        var codes = await db.Set<AuthorizationCode>().AsNoTracking()
            .Where(c => c.SubjectId == subjectId && c.ClientId == clientId && c.ConsumedAt == null)
            .Select(c => new { c.CodeHash, c.Scope }).ToListAsync(cancellationToken);
        var count = 0;
        foreach (var code in codes.Where(c => Carries(c.Scope)))
        {
            count += await db.Set<AuthorizationCode>().Where(c => c.CodeHash == code.CodeHash && c.ConsumedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now), cancellationToken);
        }

        var families = await db.Set<TokenFamily>().AsNoTracking()
            .Where(f => f.SubjectId == subjectId && f.ClientId == clientId && f.RevokedAt == null)
            .Select(f => f.FamilyId).ToListAsync(cancellationToken);
        var recorded = await db.Set<RefreshToken>().AsNoTracking()
            .Where(t => t.SubjectId == subjectId && t.ClientId == clientId && families.Contains(t.FamilyId))
            .Select(t => new { t.FamilyId, t.Scope }).ToListAsync(cancellationToken);
        foreach (var family in families)
        {
            var scoped = recorded.Where(t => t.FamilyId == family).ToList();
            if (scoped.Count == 0 || scoped.Exists(t => Carries(t.Scope)))
            {
                count += await RevokeFamilyAsync(family, cancellationToken);
            }
        }

        // Access tokens outside any family have no scope on record: revoked, for the same reason.
        return count + await db.Set<IssuedToken>()
            .Where(t => t.SubjectId == subjectId && t.ClientId == clientId && t.FamilyId == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
    }

    /// <summary>
    /// Revokes the refresh tokens and access tokens of one family (what one code led to). The family row is revoked
    /// first: an issuance in progress holds it, so this waits for it and then finds its tokens; a later issuance finds
    /// the family revoked and issues nothing.
    /// </summary>
    public async Task<int> RevokeFamilyAsync(Guid familyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Set<TokenFamily>().Where(f => f.FamilyId == familyId && f.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.RevokedAt, now), cancellationToken);
        var count = await db.Set<RefreshToken>().Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        count += await db.Set<IssuedToken>().Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    /// <summary>
    /// Revokes everything issued to a client, inside the caller's transaction (the client's removal): its families,
    /// consents, unused codes and pushed requests, refresh tokens and access tokens.
    /// </summary>
    public async Task<int> RevokeClientAsync(string clientId, CancellationToken cancellationToken)
    {
        var count = await RevokeWhereAsync(subjectId: null, clientId, cancellationToken);
        return count + await db.Set<PushedRequest>().Where(r => r.ClientId == clientId && r.ConsumedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConsumedAt, time.GetUtcNow()), cancellationToken);
    }

    private async Task<int> RevokeAsync(Guid subjectId, string? clientId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var count = await RevokeWhereAsync(subjectId, clientId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    private async Task<int> RevokeWhereAsync(Guid? subjectId, string? clientId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();

        // Families first, for the same reason as in RevokeFamilyAsync.
        await db.Set<TokenFamily>()
            .Where(f => (subjectId == null || f.SubjectId == subjectId) && (clientId == null || f.ClientId == clientId) && f.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.RevokedAt, now), cancellationToken);
        var count = await db.Set<ConsentGrant>()
            .Where(g => (subjectId == null || g.SubjectId == subjectId) && (clientId == null || g.ClientId == clientId) && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now), cancellationToken);
        count += await db.Set<AuthorizationCode>()
            .Where(c => (subjectId == null || c.SubjectId == subjectId) && (clientId == null || c.ClientId == clientId) && c.ConsumedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now), cancellationToken);
        count += await db.Set<RefreshToken>()
            .Where(t => (subjectId == null || t.SubjectId == subjectId) && (clientId == null || t.ClientId == clientId) && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        count += await db.Set<IssuedToken>()
            .Where(t => (subjectId == null || t.SubjectId == subjectId) && (clientId == null || t.ClientId == clientId) && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        return count;
    }
}
