namespace Compliance.Keys;

/// <summary>
/// The attestation key: it signs what the service attests (the consent ledger's checkpoints and receipts, later
/// erasure certificates and DPO reports). Separate from the token signing keys (<see cref="ISigningKeys"/>) and rotated
/// on its own schedule (<c>Keys:Attestation:RotationDays</c>). Every key ever used stays published with its validity
/// period, so that a signature verifies offline years later with <see cref="Attestation.AttestationVerifier"/>.
/// </summary>
public interface IAttestationKeys
{
    /// <summary>
    /// Signs <paramref name="payload"/> (the caller's canonical JSON, holding its own time) with the current key,
    /// creating the first key if none exists and rotating a key older than <c>Keys:Attestation:RotationDays</c>. Returns
    /// a compact JWS whose header is <c>{"alg":"ES256","kid":...,"typ":<paramref name="type"/>}</c>.
    /// <paramref name="type"/> is 1 to 64 letters, digits and <c>+ - . _ /</c>, for example <c>consent-receipt+jws</c>;
    /// the payload is at most 512 KiB.
    /// </summary>
    Task<AttestationSignature> SignAsync(string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>Every key ever used, oldest first, public parts only.</summary>
    Task<IReadOnlyList<AttestationKey>> AllAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Retires the current key (its private key is destroyed) and makes a new one current; returns the new key. A key
    /// made less than 10 seconds ago is kept and returned instead: two operators or nodes rotating at once make one new
    /// key. Audited (<c>keys.attestation_key_rotated</c>).
    /// </summary>
    Task<AttestationKey> RotateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Marks the key <paramref name="keyId"/> compromised from <paramref name="from"/> (truncated to the second; not
    /// later than now, not earlier than the key's valid_from): its signatures made from then on are void. The current
    /// key is rotated first. Idempotent for the same time; an earlier time replaces a later one, a later one is
    /// refused. Audited (<c>keys.attestation_key_compromised</c>). Throws <see cref="KeyCustodyException"/> for an
    /// unknown kid and <see cref="ArgumentOutOfRangeException"/> for a time out of range, each in one line.
    /// </summary>
    Task<AttestationKey> MarkCompromisedAsync(string keyId, DateTimeOffset from, CancellationToken cancellationToken);
}

/// <summary>A signature made by <see cref="IAttestationKeys.SignAsync"/>.</summary>
/// <param name="KeyId">The <c>kid</c> of the key that signed.</param>
/// <param name="Jws">The compact JWS (header.payload.signature).</param>
public sealed record AttestationSignature(string KeyId, string Jws);

/// <summary>The public part of an attestation key, as the key set publishes it.</summary>
/// <param name="KeyId">Its <c>kid</c>, the RFC 7638 thumbprint of <paramref name="PublicJwkJson"/>.</param>
/// <param name="Algorithm">Always <c>ES256</c>.</param>
/// <param name="PublicJwkJson">The public JWK as JSON text (kty, crv, x, y, kid, alg, use).</param>
/// <param name="ValidFrom">When it started signing.</param>
/// <param name="RetiredAt">From when it no longer signs; null for the current key.</param>
/// <param name="CompromisedFrom">From when its signatures are void; null unless marked compromised.</param>
public sealed record AttestationKey(
    string KeyId, string Algorithm, string PublicJwkJson, DateTimeOffset ValidFrom, DateTimeOffset? RetiredAt, DateTimeOffset? CompromisedFrom);
