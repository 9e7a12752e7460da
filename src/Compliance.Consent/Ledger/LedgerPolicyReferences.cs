using Compliance.Data.Model;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Consent.Ledger;

/// <summary>
/// The purposes and notice versions the ledger's events reference, for <c>policies validate</c> and the start-up
/// check: a referenced one may be retired, never deleted. Redacted events no longer reference anything.
/// </summary>
internal sealed class LedgerPolicyReferences(ComplianceDbContext db) : IPolicyReferences
{
    public async Task<IReadOnlyList<PolicyReference>> ReferencedAsync(CancellationToken ct) =>
        await db.Set<ConsentSubjectEvent>().AsNoTracking()
            .Select(e => new { e.PurposeId, e.NoticeVersion })
            .Distinct()
            .Select(e => new PolicyReference(e.PurposeId, e.NoticeVersion))
            .ToListAsync(ct);
}
