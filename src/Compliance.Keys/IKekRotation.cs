namespace Compliance.Keys;

/// <summary>
/// Key-encryption key rotation by re-wrapping: every stored key (signing keys, keyed-hash secrets, Data Protection
/// keys, the current attestation key) is unwrapped by the KEK that wrapped it and wrapped again by the current one. Data is never re-encrypted:
/// only the wrapped keys change.
/// </summary>
public interface IKekRotation
{
    /// <summary>The stored keys, and how many each key-encryption key wrapped.</summary>
    Task<KeyCustodyCensus> TakeCensusAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Re-wraps, under the current key-encryption key, every stored key that another one wrapped (the previous key
    /// of <c>Keys:Previous</c>, or an earlier version of the current key). Each key is re-wrapped and saved on its
    /// own, so an interrupted run loses nothing and a second run finishes the work. Idempotent; audited
    /// (<c>keys.kek_rotated</c>). Throws <see cref="KeyCustodyException"/> before changing anything when this node
    /// cannot unwrap some stored key.
    /// </summary>
    Task<KekRotationResult> RotateAsync(KekRotationOptions options, CancellationToken cancellationToken);
}

/// <summary>How <see cref="IKekRotation.RotateAsync"/> paces itself and reports.</summary>
public sealed class KekRotationOptions
{
    /// <summary>At most this many keys per second (to stay under an HSM's or a key vault's rate limit); null for no limit.</summary>
    public double? KeysPerSecond { get; init; }

    /// <summary>Called after each key is re-wrapped, with a line naming it by id (never its material).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>A token signing key as the store lists it.</summary>
/// <param name="KeyId">Its <c>kid</c>.</param>
/// <param name="Algorithm"><c>ES256</c> or <c>RS256</c>.</param>
/// <param name="Generation">Its place in its algorithm's chain.</param>
/// <param name="ActivatesAt">When it signs (or signed) first.</param>
/// <param name="KekId">The key-encryption key that wraps its private key.</param>
public sealed record StoredSigningKey(string KeyId, string Algorithm, int Generation, DateTimeOffset ActivatesAt, string KekId);

/// <summary>What the compliance store holds wrapped, by key-encryption key.</summary>
/// <param name="KekId">The current key-encryption key's id.</param>
/// <param name="Custody">Where it is kept.</param>
/// <param name="SigningKeys">The token signing keys.</param>
/// <param name="WrappedByKek">The number of stored keys each key-encryption key wrapped.</param>
public sealed record KeyCustodyCensus(string KekId, string Custody, IReadOnlyList<StoredSigningKey> SigningKeys, IReadOnlyDictionary<string, int> WrappedByKek);

/// <summary>What <see cref="IKekRotation.RotateAsync"/> did.</summary>
/// <param name="KekId">The key-encryption key everything is now wrapped by.</param>
/// <param name="FromKekIds">The key-encryption keys whose keys were re-wrapped.</param>
/// <param name="Rewrapped">How many keys this run re-wrapped.</param>
/// <param name="Remaining">How many stored keys another key-encryption key still wraps (0 when done).</param>
public sealed record KekRotationResult(string KekId, IReadOnlyList<string> FromKekIds, int Rewrapped, int Remaining);
