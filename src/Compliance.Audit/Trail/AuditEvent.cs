namespace Compliance.Audit.Trail;

/// <summary>
/// One entry of the typed audit trail. It names a pseudonymous subject at most, never a civil identity, and its
/// details are structured, non-personal facts (versions, counts, fingerprints).
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    /// <summary>The stable numeric id from <see cref="AuditEventTypes"/>.</summary>
    public int EventId { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>
    /// Who acted: <c>operator:NAME</c> (the CLI's OS user or <c>--operator</c>), <c>server:MACHINE</c> (a node acting by
    /// itself), or a client id. See <see cref="AuditActor"/>. Rows written before 2026-11 may say <c>cli</c> or <c>system</c>.
    /// </summary>
    public required string Actor { get; set; }

    /// <summary>The internal (pseudonymous) subject concerned, if any.</summary>
    public Guid? SubjectId { get; set; }

    /// <summary>A small JSON object of non-personal details.</summary>
    public string? Details { get; set; }
}
