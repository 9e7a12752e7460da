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

    /// <summary>Encrypts and authenticates a data key (1 byte to 16 KiB).</summary>
    Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken);

    /// <summary>
    /// Recovers a data key. Throws <see cref="KeyCustodyException"/> when the key id or algorithm is not this KEK's,
    /// or when the bytes were altered. The caller owns the returned array and should clear it after use.
    /// </summary>
    Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken);
}
