namespace Compliance.Keys;

/// <summary>
/// A data key encrypted by a key-encryption key: the KEK's id and the wrapping algorithm travel with the bytes, so
/// that a store can hold keys wrapped by several KEKs during a KEK rotation.
/// </summary>
/// <param name="KeyId">The id of the key-encryption key that wrapped it (<see cref="IKeyEncryptionKey.KeyId"/>).</param>
/// <param name="Algorithm">The wrapping algorithm, for example <c>A256GCM</c>.</param>
/// <param name="Ciphertext">The wrapped bytes. Not secret on their own, but never logged either.</param>
public sealed record WrappedKey(string KeyId, string Algorithm, byte[] Ciphertext)
{
    // The generated ToString would print the ciphertext's type only, but keep it explicit: no bytes in logs.
    /// <inheritdoc />
    public override string ToString() => $"WrappedKey {{ KeyId = {KeyId}, Algorithm = {Algorithm}, Length = {Ciphertext?.Length ?? 0} }}";
}
