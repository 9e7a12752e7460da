namespace Compliance.Audit.Trail;

/// <summary>A kind of audit event, with the stable id that reports and auditors rely on.</summary>
public sealed record AuditEventType(int Id, string Name);
