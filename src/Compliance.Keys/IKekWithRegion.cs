namespace Compliance.Keys;

/// <summary>A key-encryption key kept by a cloud service in a region that the audit trail records (Azure Key Vault).</summary>
public interface IKekWithRegion
{
    /// <summary>The configured region of the service that keeps the key, for example <c>francecentral</c>.</summary>
    string? Region { get; }
}
