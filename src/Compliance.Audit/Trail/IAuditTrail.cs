namespace Compliance.Audit.Trail;

/// <summary>Appends to the audit trail. Other modules record through this seam, never through the table.</summary>
public interface IAuditTrail
{
    /// <summary>Records one event now. <paramref name="details"/> must hold no personal data.</summary>
    Task RecordAsync(AuditEventType type, string actor, Guid? subjectId, string? details, CancellationToken cancellationToken);

    /// <summary>
    /// Adds one event to the caller's unit of work (the scope's compliance DbContext): it is saved by the caller's next
    /// <c>SaveChanges</c>, in the same transaction as the change it records, or not at all.
    /// </summary>
    void Append(AuditEventType type, string actor, Guid? subjectId, string? details);

    /// <summary>The most recent event of a type, or <c>null</c>.</summary>
    Task<AuditEvent?> FindLatestAsync(AuditEventType type, CancellationToken cancellationToken);
}
