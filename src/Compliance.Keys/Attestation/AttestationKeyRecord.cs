namespace Compliance.Keys.Attestation;

/// <summary>
/// One attestation key in the compliance store. Rows are never deleted: a receipt signed years ago must still find
/// its key. Retiring a key destroys its private half (the wrapped bytes and their KEK are set to null) and keeps the rest.
/// </summary>
internal sealed class AttestationKeyRecord
{
    /// <summary>The <c>kid</c>: the RFC 7638 thumbprint of the public key, checked against the private key on load.</summary>
    public required string KeyId { get; set; }

    /// <summary>Always <c>ES256</c> (P-256); the column exists so that a later algorithm is a new value, not a new table.</summary>
    public required string Algorithm { get; set; }

    /// <summary>The public JWK (kty, crv, x, y, kid, alg, use) as JSON text.</summary>
    public required string PublicJwk { get; set; }

    /// <summary>When the key started signing (whole seconds).</summary>
    public DateTimeOffset ValidFrom { get; set; }

    /// <summary>From when the key no longer signs; null while it is the current key.</summary>
    public DateTimeOffset? RetiredAt { get; set; }

    /// <summary>From when its signatures are void; null unless an operator marked it compromised.</summary>
    public DateTimeOffset? CompromisedFrom { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The key-encryption key that wrapped <see cref="WrappedPrivateKey"/>; null once the private key is destroyed.</summary>
    public string? KekId { get; set; }

    public string? KekAlgorithm { get; set; }

    /// <summary>The PKCS#8 private key, sealed to this row (kid, valid_from) and wrapped by the KEK; null once retired.</summary>
    public byte[]? WrappedPrivateKey { get; set; }
}
