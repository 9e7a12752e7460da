using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Compliance.Keys.AzureKeyVault;

/// <summary>
/// A Key Vault key URL taken apart: the vault's origin, the key name and, when given, the version. Parsed strictly,
/// since the name and version become a request path and the origin decides where a bearer token goes.
/// </summary>
internal sealed record KeyVaultKeyUrl(Uri Origin, string Name, string? Version)
{
    private const int MaxNameLength = 127;
    private const int MaxVersionLength = 64;

    /// <summary>The key without a version: <c>{origin}/keys/{name}</c>.</summary>
    public string Key => $"{OriginText}/keys/{Name}";

    /// <summary>The versioned key id, as Key Vault writes it in <c>kid</c>. Only when <see cref="Version"/> is known.</summary>
    public string Kid => Version is null ? throw new InvalidOperationException("The key URL has no version.") : $"{Key}/{Version}";

    /// <summary>The origin without a trailing slash: <c>https://{vault}.vault.azure.net</c>.</summary>
    public string OriginText => Origin.GetLeftPart(UriPartial.Authority);

    /// <summary>Whether <paramref name="other"/> is a version of the same key in the same vault (names are case-insensitive in Key Vault).</summary>
    public bool IsSameKey(KeyVaultKeyUrl other) =>
        string.Equals(OriginText, other.OriginText, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase);

    public KeyVaultKeyUrl WithVersion(string version) => this with { Version = version };

    /// <summary>Parses a key URL; <paramref name="problem"/> completes a sentence that starts with the setting's name.</summary>
    public static bool TryParse(string? text, bool allowLoopbackHttp, [NotNullWhen(true)] out KeyVaultKeyUrl? url, [NotNullWhen(false)] out string? problem)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2048 || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            problem = "must be an absolute URL: https://{vault}.vault.azure.net/keys/{name}[/{version}].";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            problem = "must have no user, query or fragment: https://{vault}.vault.azure.net/keys/{name}[/{version}].";
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            if (!allowLoopbackHttp || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
            {
                problem = allowLoopbackHttp
                    ? "may use http only on a loopback address (127.0.0.1 or [::1])."
                    : "must use https: a bearer token and the content keys travel on this connection.";
                return false;
            }
        }
        else if (uri.Scheme != Uri.UriSchemeHttps || !uri.IsDefaultPort || !IsVaultHost(uri.Host))
        {
            problem = "must be a key of an Azure Key Vault or managed HSM on the default https port: https://{vault}.vault.azure.net/keys/{name} "
                + "or https://{hsm}.managedhsm.azure.net/keys/{name} (the sovereign clouds are outside the EEA).";
            return false;
        }

        var segments = uri.AbsolutePath.TrimEnd('/').Split('/');
        if (segments.Length is not (3 or 4) || segments[0].Length != 0 || segments[1] != "keys" || !IsName(segments[2])
            || (segments.Length == 4 && !IsVersion(segments[3])))
        {
            problem = "must name a key: {vault URL}/keys/{name}[/{version}], the name 1 to 127 letters, digits or hyphens, the version letters and digits.";
            return false;
        }

        url = new KeyVaultKeyUrl(new Uri(uri.GetLeftPart(UriPartial.Authority)), segments[2], segments.Length == 4 ? segments[3] : null);
        problem = null;
        return true;
    }

    private static bool IsVaultHost(string host)
    {
        foreach (var suffix in (string[])[".vault.azure.net", ".managedhsm.azure.net"])
        {
            if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                var name = host[..^suffix.Length];
                return name.Length is >= 3 and <= 24 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
            }
        }

        return false;
    }

    private static bool IsName(string value) =>
        value.Length is > 0 and <= MaxNameLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static bool IsVersion(string value) =>
        value.Length is > 0 and <= MaxVersionLength && value.All(char.IsAsciiLetterOrDigit);
}
