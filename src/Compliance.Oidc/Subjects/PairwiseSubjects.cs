using System.Text;
using Compliance.Data.Model;
using Compliance.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Subjects;

/// <summary>
/// The pairwise <c>sub</c> a sector sees for a subject, and the way back for the rights jobs. Partners only ever
/// give or receive pairwise subs; the internal id never leaves the service.
/// </summary>
public interface IPairwiseSubjects
{
    /// <summary>The sector's <c>sub</c> for the internal subject; the mapping is recorded for <see cref="ResolveAsync"/>.</summary>
    ValueTask<string> SubjectForAsync(Guid subjectId, string sector, CancellationToken cancellationToken);

    /// <summary>The internal subject behind a sector's <c>sub</c>, or null.</summary>
    Task<Guid?> ResolveAsync(string sector, string subject, CancellationToken cancellationToken);
}

/// <summary>
/// <c>sub = base64url(HMAC-SHA256(pairwise key, sector ‖ 0x00 ‖ internal id))</c>. The key stays in key custody; the sub
/// depends on nothing civil, so it stays the same when the identity is added or corrected.
/// </summary>
internal sealed class PairwiseSubjects(ComplianceDbContext db, IKeyedHash keyedHash, IMemoryCache cache, TimeProvider time) : IPairwiseSubjects
{
    public const string KeyPurpose = "pairwise-subject";

    public async ValueTask<string> SubjectForAsync(Guid subjectId, string sector, CancellationToken cancellationToken)
    {
        var key = ("pairwise", sector, subjectId);
        if (cache.TryGetValue(key, out string? known) && known is not null)
        {
            return known;
        }

        var input = Encoding.UTF8.GetBytes($"{sector}\0{subjectId:D}");
        var subject = Base64UrlEncoder.Encode(await keyedHash.ComputeAsync(KeyPurpose, input, cancellationToken));
        if (!await db.Set<PairwiseSubject>().AnyAsync(p => p.Sector == sector && p.Subject == subject, cancellationToken))
        {
            // ON CONFLICT DO NOTHING: two requests (or nodes) recording the same mapping at once is the normal case,
            // not an error worth a failed statement in the logs.
            var now = time.GetUtcNow();
            var createdAt = db.StoredTime(now);
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO oidc_pairwise_subjects (sector, subject, subject_id, created_at) VALUES ({sector}, {subject}, {subjectId}, {createdAt}) ON CONFLICT DO NOTHING",
                cancellationToken);
        }

        cache.Set(key, subject, TimeSpan.FromMinutes(10));
        return subject;
    }

    public async Task<Guid?> ResolveAsync(string sector, string subject, CancellationToken cancellationToken) =>
        await db.Set<PairwiseSubject>().AsNoTracking()
            .Where(p => p.Sector == sector && p.Subject == subject)
            .Select(p => (Guid?)p.SubjectId)
            .FirstOrDefaultAsync(cancellationToken);
}
