namespace Compliance.Keys;

/// <summary>
/// Key custody settings. Bound from the <c>Keys</c> section and validated at start-up: a value out of range stops the
/// host with a message naming the setting.
/// </summary>
public sealed class KeysOptions : KekSettings
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Keys";

    /// <summary>
    /// The previous key-encryption key, during a KEK rotation only (section <c>Keys:Previous</c>, the same settings as
    /// the current one: <c>Kek</c>, <c>LocalKekPath</c>...). A node then wraps with the current key and unwraps with
    /// either; <c>compliance keys rotate-kek</c> re-wraps every stored key under the current one, after which this
    /// section is removed. Unset (null) outside a rotation.
    /// </summary>
    public KekSettings? Previous { get; set; }

    /// <summary>
    /// Whether a start may create the local key-encryption key when its file is missing. Default (unset): only on the
    /// embedded default, that is in the Development environment or on SQLite in the default data folder. Elsewhere
    /// (production) the first key is created on purpose with <c>compliance keys init</c>, or by setting this to
    /// <c>true</c>; <c>false</c> never creates one. Whatever the setting, a start never creates a key while the store
    /// holds keys wrapped by a key-encryption key: it refuses, since a new key could not read them.
    /// </summary>
    public bool? CreateKekIfMissing { get; set; }

    /// <summary>How long a token signing key signs, in days. Default 90; 2 to 365; longer than <see cref="PrePublishDays"/>.</summary>
    public int SigningKeyLifetimeDays { get; set; } = 90;

    /// <summary>
    /// How long the next signing key is published in the JWKS before it signs, in days, so that relying parties'
    /// cached key sets already hold it. Default 7; 1 to 90; shorter than <see cref="SigningKeyLifetimeDays"/>.
    /// </summary>
    public int PrePublishDays { get; set; } = 7;

    /// <summary>
    /// How long a retired signing key stays in the JWKS after it stopped signing, in days. Default 2; 1 to 90. It must
    /// exceed the longest lifetime of a token it signed (the OIDC module checks that relation).
    /// </summary>
    public int RetiredKeyPublishDays { get; set; } = 2;

    /// <summary>The attestation key (section <c>Keys:Attestation</c>): it signs the consent ledger's checkpoints and receipts.</summary>
    public AttestationKeyOptions Attestation { get; set; } = new();
}

/// <summary>Settings of the attestation key (section <c>Keys:Attestation</c>).</summary>
public sealed class AttestationKeyOptions
{
    /// <summary>
    /// How long an attestation key signs before it is replaced, in days. Default 365; 30 to 1825. An older key is
    /// rotated when it is next used to sign, or by <c>compliance keys rotate-attestation-key</c>. Retired keys stay
    /// published forever, so this bounds what a leaked key can sign, not how long receipts verify.
    /// </summary>
    public int RotationDays { get; set; } = 365;
}

/// <summary>Which key-encryption key (KEK) wraps the stored keys, and where it is kept.</summary>
public class KekSettings
{
    /// <summary>The local-file KEK (the embedded default).</summary>
    public const string Local = "local";

    /// <summary>A non-extractable AES key in a PKCS#11 token (an HSM; tested against SoftHSM2).</summary>
    public const string Pkcs11Token = "pkcs11";

    /// <summary>An RSA key in Azure Key Vault (or a managed HSM), reached through its REST API.</summary>
    public const string AzureKeyVaultKey = "azure-key-vault";

    /// <summary>Every value <see cref="Kek"/> may take.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [Local, Pkcs11Token, AzureKeyVaultKey];

    /// <summary>
    /// Where the KEK is kept: <c>local</c> (a key file, the default), <c>pkcs11</c> (an HSM; settings under
    /// <see cref="Pkcs11"/>) or <c>azure-key-vault</c> (settings under <see cref="AzureKeyVault"/>). Each custody has its own settings below; the
    /// stored keys record the id of the KEK that wrapped them, so that a change of KEK is a rotation
    /// (<c>Keys:Previous</c> and <c>compliance keys rotate-kek</c>), never a silent switch.
    /// </summary>
    public string Kek { get; set; } = Local;

    /// <summary>
    /// The file of the local key-encryption key (the embedded default KEK, <c>Keys:Kek=local</c>). Default: <c>kek.key</c> in the storage
    /// data folder (<c>Storage:DataDirectory</c>); a relative path is resolved against that folder too. Created on
    /// first use with mode 0600 (its folder 0700, when the folder is created). A file that other users may read or
    /// write is refused. Every node sharing one compliance database must hold the same file: back it up apart from
    /// the database, since the keys stored in the database are unreadable without it.
    /// </summary>
    public string? LocalKekPath { get; set; }

    /// <summary>The PKCS#11 token and key, when <see cref="Kek"/> is <c>pkcs11</c> (section <c>Keys:Pkcs11</c>).</summary>
    public Pkcs11.Pkcs11KekOptions Pkcs11 { get; set; } = new();

    /// <summary>The Azure Key Vault key, when <see cref="Kek"/> is <c>azure-key-vault</c> (section <c>Keys:AzureKeyVault</c>).</summary>
    public AzureKeyVault.AzureKeyVaultKekOptions AzureKeyVault { get; set; } = new();
}
