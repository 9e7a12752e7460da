namespace Compliance.Keys;

/// <summary>
/// The deliberate creation of the local key-encryption key (<c>compliance keys init</c>). A new key can read none of
/// the keys already in the store, and would change every pairwise subject: so it is never created over an existing
/// key file, nor while the store holds wrapped keys.
/// </summary>
public interface IKekProvisioning
{
    /// <summary>
    /// Creates the local key-encryption key file (mode 0600) and returns its id and path. Throws
    /// <see cref="KeyCustodyException"/> when the file exists, when the store already holds wrapped keys, or when the
    /// configured key-encryption key is not a local file. The compliance store's schema must be current.
    /// </summary>
    Task<ProvisionedKek> CreateAsync(CancellationToken cancellationToken);
}

/// <summary>A key-encryption key created by <see cref="IKekProvisioning.CreateAsync"/>.</summary>
/// <param name="KeyId">Its id, as the store records it beside every key it wraps.</param>
/// <param name="Path">Its file, to back up apart from the database and to copy to every node.</param>
public sealed record ProvisionedKek(string KeyId, string Path);
