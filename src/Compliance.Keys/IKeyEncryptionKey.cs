namespace Compliance.Keys;

/// <summary>
/// A key-encryption key (KEK): wraps and unwraps data keys, and never hands out its own material. The embedded
/// default is a local key file; a remote KEK (Azure Key Vault, an HSM) fits the same seam, its wrap and unwrap being
/// network calls, so both are asynchronous and the wrapped bytes carry the id of the key and the algorithm that
/// made them.
/// </summary>
public interface IKeyEncryptionKey
{
    /// <summary>The id of the key that <see cref="WrapAsync"/> uses now. Stable for a given key; not secret.</summary>
    string KeyId { get; }

    /// <summary>Where the key is kept: <c>local-file</c>, <c>pkcs11</c> or <c>azure-key-vault</c>.</summary>
    string Custody { get; }

    /// <summary>
    /// Whether <see cref="UnwrapAsync"/> can open what the key <paramref name="keyId"/> wrapped: this key, or (for a
    /// key service that versions its keys) an earlier version of it.
    /// </summary>
    bool CanUnwrap(string keyId) => string.Equals(keyId, KeyId, StringComparison.Ordinal);

    /// <summary>
    /// Checks that the key can be used (reached, unlocked, present), so that a node refuses to start in one line
    /// rather than fail its first request. Throws <see cref="KeyCustodyException"/>.
    /// </summary>
    Task EnsureReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Encrypts and authenticates a data key (1 byte to 16 KiB).</summary>
    Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken);

    /// <summary>
    /// Recovers a data key. Throws <see cref="KeyCustodyException"/> when the key id or algorithm is not this KEK's,
    /// or when the bytes were altered. The caller owns the returned array and should clear it after use.
    /// </summary>
    Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken);
}
