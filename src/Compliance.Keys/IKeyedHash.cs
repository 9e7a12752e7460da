namespace Compliance.Keys;

/// <summary>
/// Keyed hashes whose keys never leave key custody: pairwise subjects, blind indexes, subject links.
/// </summary>
public interface IKeyedHash
{
    /// <summary>
    /// HMAC-SHA256 (32 bytes) of <paramref name="data"/> under the custody-held secret named by
    /// <paramref name="purpose"/> (1 to 64 characters of <c>a-z 0-9 . _ : -</c>, for example <c>pairwise-subject</c>).
    /// The secret is created on first use, stored wrapped by the KEK in the compliance store, and is the same on every
    /// node; each purpose has its own secret, so hashes of one purpose cannot be joined with another's.
    /// </summary>
    ValueTask<byte[]> ComputeAsync(string purpose, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// A hasher under the same secret as <see cref="ComputeAsync"/> for <paramref name="purpose"/>, keyed once per
    /// thread, for many hashes in a row. The caller disposes it.
    /// </summary>
    ValueTask<Hashing.KeyedHasher> HasherAsync(string purpose, CancellationToken cancellationToken);
}
