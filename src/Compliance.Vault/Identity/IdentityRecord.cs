namespace Compliance.Vault.Identity;

/// <summary>
/// A subject's civil identity, sealed with the subject's own data key. The key is stored only wrapped by a
/// key-encryption key from key custody: destroying it (crypto-shredding) makes the identity unreadable, backups included.
/// </summary>
public sealed class IdentityRecord
{
    /// <summary>Keyed link (HMAC) to the internal subject id: the vault alone does not tell whose account this is.</summary>
    public required string SubjectLink { get; set; }

    /// <summary>National identity status: PROV, VALI, RECUP or QUAL.</summary>
    public required string Status { get; set; }

    /// <summary>The id of the key-encryption key that wrapped <see cref="WrappedDataKey"/>.</summary>
    public required string KeyId { get; set; }

    public required byte[] WrappedDataKey { get; set; }

    /// <summary>The identity traits, encrypted and authenticated with the data key.</summary>
    public required byte[] Ciphertext { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
