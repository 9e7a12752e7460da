namespace Compliance.Audit.Trail;

/// <summary>
/// The catalogue of audit event ids. Ids are never reused or renumbered: a DPO report from last year must read the
/// same today. Ranges: 1000s operations, 2000s identity provider, 3000s vault, 4000s consent, 5000s rights.
/// </summary>
public static class AuditEventTypes
{
    /// <summary>A store's schema was migrated by <c>compliance migrate</c> or at start-up.</summary>
    public static readonly AuditEventType SchemaMigrated = new(1000, "schema.migrated");

    /// <summary>A node started with a policy set (purposes, retention, register) whose fingerprint differs from the last one in force.</summary>
    public static readonly AuditEventType PolicySetActivated = new(1001, "policies.activated");

    /// <summary>Every type, for reports and for the test that keeps ids unique.</summary>
    public static IReadOnlyList<AuditEventType> All { get; } = [SchemaMigrated, PolicySetActivated];
}
