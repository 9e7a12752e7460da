using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Audit.Trail;

internal sealed class AuditTrail(ComplianceDbContext db, TimeProvider time) : IAuditTrail
{
    public async Task RecordAsync(AuditEventType type, string actor, Guid? subjectId, string? details, CancellationToken cancellationToken)
    {
        Append(type, actor, subjectId, details);
        await db.SaveChangesAsync(cancellationToken);
    }

    public void Append(AuditEventType type, string actor, Guid? subjectId, string? details)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        db.Set<AuditEvent>().Add(new AuditEvent
        {
            EventId = type.Id,
            Name = type.Name,
            OccurredAt = time.GetUtcNow(),
            Actor = actor,
            SubjectId = subjectId,
            Details = details,
        });
    }

    public Task<AuditEvent?> FindLatestAsync(AuditEventType type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        return db.Set<AuditEvent>().AsNoTracking()
            .Where(e => e.EventId == type.Id)
            .OrderByDescending(e => e.Id)
            .FirstOrDefaultAsync(cancellationToken);
    }
}
