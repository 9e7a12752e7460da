using Compliance.Keys.Encryption;

namespace Compliance.Keys.AzureKeyVault;

/// <summary>
/// Settings of the Azure Key Vault key-encryption key (section <c>Keys:AzureKeyVault</c>): which RSA key wraps the
/// data keys, the region its vault is in, and how this service signs in to Key Vault. Nothing here is secret: a
/// client secret is read from a file named here, never from configuration.
/// </summary>
public sealed class AzureKeyVaultKekOptions
{
    /// <summary>Signs in with <c>DefaultAzureCredential</c> (environment, workload identity, managed identity, developer tools).</summary>
    public const string CredentialDefault = "default";

    /// <summary>Signs in with the managed identity of the host (system-assigned, or user-assigned by client id).</summary>
    public const string CredentialManagedIdentity = "managed-identity";

    /// <summary>Signs in with Kubernetes workload identity federation (<c>AZURE_FEDERATED_TOKEN_FILE</c>).</summary>
    public const string CredentialWorkloadIdentity = "workload-identity";

    /// <summary>Signs in as an application with a client secret read from <see cref="ClientSecretFile"/>.</summary>
    public const string CredentialClientSecret = "client-secret";

    /// <summary>
    /// The Azure regions of the European Economic Area that may hold the key. Health data and the keys that protect it
    /// stay in the EEA; Switzerland and the United Kingdom have adequacy decisions but are not in the EEA, so they are
    /// not listed.
    /// </summary>
    public static IReadOnlyList<string> EeaRegions { get; } =
    [
        "francecentral", "francesouth", "germanywestcentral", "germanynorth", "northeurope", "westeurope",
        "swedencentral", "swedensouth", "italynorth", "polandcentral", "spaincentral", "norwayeast", "norwaywest",
        "austriaeast", "belgiumcentral", "denmarkeast", "finlandcentral", "greececentral",
    ];

    private static readonly string[] Credentials = [CredentialDefault, CredentialManagedIdentity, CredentialWorkloadIdentity, CredentialClientSecret];

    /// <summary>
    /// The URL of the RSA key: <c>https://{vault}.vault.azure.net/keys/{name}</c>, or a managed HSM's
    /// <c>https://{hsm}.managedhsm.azure.net/keys/{name}</c>, optionally followed by <c>/{version}</c>. Without a
    /// version, the key's current version is looked up when the service starts, and new data keys are wrapped with
    /// it; data keys wrapped by any version of the same key still unwrap. Required.
    /// </summary>
    public string? KeyId { get; set; }

    /// <summary>
    /// The Azure region the vault is in, for example <c>francecentral</c>. Required, and must be one of
    /// <see cref="EeaRegions"/>. It is declared, not discovered: the key's data plane does not tell its region, so
    /// whoever configures it vouches for it, and the audit trail records it.
    /// </summary>
    public string? Region { get; set; }

    /// <summary>
    /// How to sign in to Key Vault: <c>default</c> (the default), <c>managed-identity</c>, <c>workload-identity</c>
    /// or <c>client-secret</c>.
    /// </summary>
    public string Credential { get; set; } = CredentialDefault;

    /// <summary>The client id of a user-assigned managed identity (<c>default</c> or <c>managed-identity</c>); empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The Entra ID tenant (a GUID or a domain name). Required for <c>client-secret</c>; optional otherwise.</summary>
    public string? TenantId { get; set; }

    /// <summary>The application (client) id. Required for <c>client-secret</c>; optional for <c>workload-identity</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// The file holding the client secret (<c>client-secret</c> only), readable by its owner only (chmod 600 or 400).
    /// The secret itself never goes in configuration.
    /// </summary>
    public string? ClientSecretFile { get; set; }

    /// <summary>
    /// For tests only: accepts a key URL of plain <c>http://</c> on a loopback address (127.0.0.1 or ::1), so that a
    /// local stand-in of Key Vault can be used. Default false: https only.
    /// </summary>
    public bool AllowLoopbackHttp { get; set; }

    /// <summary>One line per invalid setting, each naming the setting under <paramref name="sectionPath"/>.</summary>
    internal IEnumerable<string> Problems(string sectionPath)
    {
        if (string.IsNullOrWhiteSpace(KeyId))
        {
            yield return $"{sectionPath}:KeyId is required: the URL of the RSA key, https://{{vault}}.vault.azure.net/keys/{{name}}[/{{version}}].";
        }
        else if (!KeyVaultKeyUrl.TryParse(KeyId, AllowLoopbackHttp, out _, out var why))
        {
            yield return $"{sectionPath}:KeyId {why}";
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            yield return $"{sectionPath}:Region is required: the Azure region the vault is in, one of the EEA regions ({string.Join(", ", EeaRegions)}).";
        }
        else if (!EeaRegions.Contains(Region, StringComparer.Ordinal))
        {
            yield return $"{sectionPath}:Region '{Printable(Region)}' is not an Azure region of the European Economic Area: the key that protects health data "
                + $"must stay in the EEA (adequacy decisions such as Switzerland's or the UK's are not enough here). Use one of: {string.Join(", ", EeaRegions)}.";
        }

        if (!Credentials.Contains(Credential, StringComparer.Ordinal))
        {
            yield return $"{sectionPath}:Credential '{Printable(Credential)}' is unknown; use one of: {string.Join(", ", Credentials)}.";
            yield break;
        }

        if (!string.IsNullOrWhiteSpace(ManagedIdentityClientId))
        {
            if (Credential is not (CredentialDefault or CredentialManagedIdentity))
            {
                yield return $"{sectionPath}:ManagedIdentityClientId applies to Credential 'default' or 'managed-identity' only, not '{Credential}'.";
            }
            else if (!Guid.TryParseExact(ManagedIdentityClientId, "D", out _))
            {
                yield return $"{sectionPath}:ManagedIdentityClientId must be a client id (a GUID).";
            }
        }

        if (!string.IsNullOrWhiteSpace(TenantId) && !IsTenant(TenantId))
        {
            yield return $"{sectionPath}:TenantId must be a tenant id (a GUID) or a domain name.";
        }

        if (!string.IsNullOrWhiteSpace(ClientId) && !Guid.TryParseExact(ClientId, "D", out _))
        {
            yield return $"{sectionPath}:ClientId must be an application (client) id (a GUID).";
        }

        if (Credential != CredentialClientSecret)
        {
            if (!string.IsNullOrWhiteSpace(ClientSecretFile))
            {
                yield return $"{sectionPath}:ClientSecretFile is set, but Credential is '{Credential}': remove the secret file, or set Credential to 'client-secret'.";
            }

            yield break;
        }

        if (string.IsNullOrWhiteSpace(TenantId))
        {
            yield return $"{sectionPath}:TenantId is required with Credential 'client-secret'.";
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            yield return $"{sectionPath}:ClientId is required with Credential 'client-secret'.";
        }

        if (string.IsNullOrWhiteSpace(ClientSecretFile))
        {
            yield return $"{sectionPath}:ClientSecretFile is required with Credential 'client-secret': a file readable by its owner only that holds the secret.";
        }
        else if (SecretFileProblem(ClientSecretFile) is { } problem)
        {
            yield return $"{sectionPath}:ClientSecretFile {problem}";
        }
    }

    /// <summary>Why the secret file cannot be used, or null. Checked again when the secret is read.</summary>
    internal static string? SecretFileProblem(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return $"'{path}' does not exist.";
            }

            return OwnerOnlyFile.ModeProblem(path) is { } problem ? $"'{path}' {problem}" : null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"'{path}' cannot be read ({e.GetType().Name}).";
        }
    }


    internal static bool IsTenant(string value) =>
        Guid.TryParseExact(value, "D", out _)
        || (value.Length <= 253 && value.Contains('.', StringComparison.Ordinal)
            && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'));

    /// <summary>A value from outside made safe for a one-line message: control characters replaced, cut at 300 characters (a key id fits).</summary>
    internal static string Printable(string? value) => WrappedKeyChecks.Printable(value);
}
