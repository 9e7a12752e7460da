using Compliance.Data.Model;
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
}

internal sealed class GrantRevocation(ComplianceDbContext db, TimeProvider time) : IGrantRevocation
{
    public Task<int> RevokeSubjectAsync(Guid subjectId, CancellationToken cancellationToken) =>
        RevokeAsync(subjectId, clientId: null, cancellationToken);

    public Task<int> RevokeSubjectClientAsync(Guid subjectId, string clientId, CancellationToken cancellationToken) =>
        RevokeAsync(subjectId, clientId, cancellationToken);

    /// <summary>Revokes the refresh tokens and access tokens of one family (what one code led to).</summary>
    public async Task<int> RevokeFamilyAsync(Guid familyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var count = await db.Set<RefreshToken>().Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        count += await db.Set<IssuedToken>().Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        return count;
    }

    private async Task<int> RevokeAsync(Guid subjectId, string? clientId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var count = await db.Set<ConsentGrant>()
            .Where(g => g.SubjectId == subjectId && (clientId == null || g.ClientId == clientId) && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now), cancellationToken);
        count += await db.Set<AuthorizationCode>()
            .Where(c => c.SubjectId == subjectId && (clientId == null || c.ClientId == clientId) && c.ConsumedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now), cancellationToken);
        count += await db.Set<RefreshToken>()
            .Where(t => t.SubjectId == subjectId && (clientId == null || t.ClientId == clientId) && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        count += await db.Set<IssuedToken>()
            .Where(t => t.SubjectId == subjectId && (clientId == null || t.ClientId == clientId) && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return count;
    }
}
