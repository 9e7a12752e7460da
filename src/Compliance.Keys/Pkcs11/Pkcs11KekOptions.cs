namespace Compliance.Keys.Pkcs11;

/// <summary>
/// Where the PKCS#11 key-encryption key lives (configuration section <c>Keys:Pkcs11</c>): a module, one token on it
/// (by label or by slot), the user PIN that opens it, and the label of an AES-256 secret key on that token.
/// </summary>
public sealed class Pkcs11KekOptions
{
    /// <summary>The largest token or key label, in UTF-8 bytes: PKCS#11 labels are 32-byte fields.</summary>
    public const int MaxTokenLabelBytes = 32;

    /// <summary>The largest key label accepted, in characters.</summary>
    public const int MaxKeyLabelLength = 128;

    /// <summary>
    /// Required. The absolute path of the PKCS#11 module (for SoftHSM2 on Debian <c>/usr/lib/softhsm/libsofthsm2.so</c>).
    /// A bare name is refused: it would be looked up along the library search path, which another user may control.
    /// </summary>
    public string? ModulePath { get; set; }

    /// <summary>The label of the token that holds the key. Set this or <see cref="Slot"/>, not both.</summary>
    public string? TokenLabel { get; set; }

    /// <summary>
    /// The slot id of the token that holds the key. Set this or <see cref="TokenLabel"/>, not both. Prefer the label:
    /// some modules (SoftHSM2 among them) renumber slots when a token is initialised.
    /// </summary>
    public ulong? Slot { get; set; }

    /// <summary>
    /// The user PIN, in clear. Set this or <see cref="PinFile"/>, not both; prefer the file (or a secret store that
    /// writes one), since configuration values end up in environment dumps. Never logged.
    /// </summary>
    public string? Pin { get; set; }

    /// <summary>
    /// A file holding the user PIN (one trailing newline is ignored). It must be readable by its owner only
    /// (<c>chmod 600</c> or <c>400</c>); a file readable by its group or by other users is refused. Read at each login,
    /// never kept.
    /// </summary>
    public string? PinFile { get; set; }

    /// <summary>
    /// Required. The <c>CKA_LABEL</c> of the key-encryption key: an AES-256 secret key on the token, sensitive and not
    /// extractable. A new key under a new label is a new key-encryption key.
    /// </summary>
    public string? KeyLabel { get; set; }

    /// <summary>Problems of this configuration, each one line naming its setting under <paramref name="sectionPath"/>.</summary>
    internal IEnumerable<string> Problems(string sectionPath)
    {
        if (string.IsNullOrWhiteSpace(ModulePath))
        {
            yield return $"{sectionPath}:ModulePath is required (the absolute path of the PKCS#11 module).";
        }
        else if (!Path.IsPathFullyQualified(ModulePath) || HasControl(ModulePath))
        {
            yield return $"{sectionPath}:ModulePath must be the absolute path of the PKCS#11 module file, not a library name.";
        }

        var hasLabel = !string.IsNullOrEmpty(TokenLabel);
        if (hasLabel == Slot.HasValue)
        {
            yield return $"{sectionPath}: set exactly one of TokenLabel and Slot to choose the token.";
        }
        else if (hasLabel && !IsLabel(TokenLabel!, MaxTokenLabelBytes))
        {
            yield return $"{sectionPath}:TokenLabel must be 1 to {MaxTokenLabelBytes} UTF-8 bytes without control characters or surrounding spaces.";
        }

        if (string.IsNullOrEmpty(Pin) == string.IsNullOrWhiteSpace(PinFile))
        {
            yield return $"{sectionPath}: set exactly one of Pin and PinFile for the token's user PIN.";
        }

        if (string.IsNullOrEmpty(KeyLabel))
        {
            yield return $"{sectionPath}:KeyLabel is required (the CKA_LABEL of the AES-256 key-encryption key on the token).";
        }
        else if (KeyLabel.Length > MaxKeyLabelLength || !IsLabel(KeyLabel, int.MaxValue))
        {
            yield return $"{sectionPath}:KeyLabel must be 1 to {MaxKeyLabelLength} characters without control characters or surrounding spaces.";
        }
    }

    /// <summary>The setting that holds the PIN, for messages: the PIN itself is never shown.</summary>
    internal string PinSetting(string sectionPath) => string.IsNullOrEmpty(Pin) ? $"{sectionPath}:PinFile" : $"{sectionPath}:Pin";

    private static bool IsLabel(string value, int maxBytes) =>
        value.Length > 0 && !HasControl(value) && value.Trim() == value && System.Text.Encoding.UTF8.GetByteCount(value) <= maxBytes;

    private static bool HasControl(string value) => value.Any(char.IsControl);
}
