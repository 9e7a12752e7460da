namespace Compliance.Vault.Traces;

/// <summary>
/// One access to a subject's civil identity: who, when, what action, which data, and why (required for break-glass).
/// The patient and the partner concerned can consult it.
/// </summary>
public sealed class AccessTrace
{
    public long Id { get; set; }

    public required string SubjectLink { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>The pseudonymous actor: the subject, a client id, or a professional's id.</summary>
    public required string Actor { get; set; }

    /// <summary>read, release, rectify, erase, break-glass.</summary>
    public required string Action { get; set; }

    /// <summary>Comma-separated data categories touched.</summary>
    public required string DataCategories { get; set; }

    /// <summary>The justification; required when <see cref="BreakGlass"/> is set.</summary>
    public string? Reason { get; set; }

    public bool BreakGlass { get; set; }
}
