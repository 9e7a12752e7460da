namespace Compliance.Keys;

/// <summary>
/// The deliberate creation of the local key-encryption key (<c>compliance keys init</c>). A new key can read none of
/// the keys already in the store, and would change every pairwise subject: so it is never created over an existing
/// key file, nor while the store holds wrapped keys.
/// </summary>
public interface IKekProvisioning
{
    /// <summary>
    /// Creates the configured key-encryption key: the local key file (mode 0600), or a non-extractable AES key on the
    /// PKCS#11 token; returns its id and where it is. Throws <see cref="KeyCustodyException"/> when it exists, when the
    /// store already holds wrapped keys that no <c>Keys:Previous</c> key reads, or when the key is kept by a service
    /// where it is created by its own tools (Azure Key Vault). The compliance store's schema must be current.
    /// </summary>
    Task<ProvisionedKek> CreateAsync(CancellationToken cancellationToken);
}

/// <summary>A key-encryption key created by <see cref="IKekProvisioning.CreateAsync"/>.</summary>
/// <param name="KeyId">Its id, as the store records it beside every key it wraps.</param>
/// <param name="Path">Its file, to back up apart from the database and to copy to every node; for a PKCS#11 key, the token and label that hold it.</param>
/// <param name="Custody">Where it is kept: <c>local-file</c> or <c>pkcs11</c>.</param>
public sealed record ProvisionedKek(string KeyId, string Path, string Custody = "local-file");
