namespace Compliance.Keys;

/// <summary>
/// The escrow of the key-encryption key: what an operator needs to recover the stored keys after losing the node
/// that held it. For a local key file, the key itself; for a PKCS#11 token or Azure Key Vault, whose keys never
/// leave their custody, the references that name the key (module, token and label; vault URL, version and region),
/// never a PIN or a client secret. Always encrypted to an operator's RSA public key, as a JWE (RFC 7516, compact,
/// <c>RSA-OAEP-256</c> + <c>A256GCM</c>) that any JOSE library can open with the operator's private key.
/// </summary>
public interface IKekEscrow
{
    /// <summary>
    /// Writes the escrow of the configured key-encryption keys (the current one, and the previous one during a
    /// rotation) to <paramref name="path"/>, owner-only, never over an existing file; audited as
    /// <c>keys.escrow_exported</c>. <paramref name="recipientPublicKeyPem"/> is an RSA public key of 3072 bits or more
    /// (PEM, SubjectPublicKeyInfo). Throws <see cref="KeyCustodyException"/> or <see cref="ArgumentException"/>.
    /// </summary>
    Task<KekEscrowExport> ExportAsync(string recipientPublicKeyPem, string path, CancellationToken cancellationToken);

    /// <summary>
    /// Opens an escrow with the operator's RSA private key (PEM). With <paramref name="restore"/>, writes the local key
    /// it holds (the first one, or <paramref name="kekId"/>) at <c>Keys:LocalKekPath</c>, owner-only and never over an
    /// existing file, and checks that the file gives back the escrowed key's id. Needs no store: it is where recovery
    /// starts. Returns what the escrow names, without the key itself.
    /// </summary>
    KekEscrowOpened Open(string privateKeyPem, string escrow, bool restore, string? kekId = null);
}

/// <summary>What <see cref="IKekEscrow.Open"/> found, and restored.</summary>
/// <param name="CreatedAt">When the escrow was written.</param>
/// <param name="Keks">Each key-encryption key it names: custody, kek_id and its references (never key material).</param>
/// <param name="RestoredTo">The key file written, when asked to restore one.</param>
public sealed record KekEscrowOpened(DateTimeOffset CreatedAt, IReadOnlyList<IReadOnlyDictionary<string, string>> Keks, string? RestoredTo);

/// <summary>What <see cref="IKekEscrow.ExportAsync"/> wrote.</summary>
/// <param name="Path">The escrow file.</param>
/// <param name="KekIds">The key-encryption keys it holds or names.</param>
/// <param name="Recipient">The SHA-256 thumbprint of the operator's public key (<c>sha256:</c> and hex), which can open it.</param>
public sealed record KekEscrowExport(string Path, IReadOnlyList<string> KekIds, string Recipient);
