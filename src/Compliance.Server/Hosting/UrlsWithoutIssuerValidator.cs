using Compliance.Oidc;
using Microsoft.Extensions.Options;

namespace Compliance.Server.Hosting;

/// <summary>
/// Refuses a start that listens somewhere else than the default address while <c>Oidc:Issuer</c> is left at its
/// default: the discovery document, the tokens' <c>iss</c> and every redirect would name an address partners cannot
/// reach. The issuer is not derived from <c>Urls</c>, because behind a proxy the public URL is rarely the bind address.
/// </summary>
internal sealed class UrlsWithoutIssuerValidator(IConfiguration configuration) : IValidateOptions<OidcOptions>
{
    /// <summary>The embedded default's address, shipped in appsettings.json and as <c>Oidc:Issuer</c>'s default.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public ValidateOptionsResult Validate(string? name, OidcOptions options)
    {
        // "Urls" is also what ASPNETCORE_URLS and --urls set.
        var urls = configuration["Urls"]?.Trim();
        var issuerSet = !string.IsNullOrWhiteSpace(configuration[$"{OidcOptions.SectionName}:{nameof(OidcOptions.Issuer)}"]);
        if (issuerSet || string.IsNullOrEmpty(urls) || string.Equals(urls.TrimEnd('/'), DefaultUrls, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(
            $"Urls: set to '{urls}' while Oidc:Issuer is not set, so the issuer would stay {DefaultUrls}; "
            + "set Oidc:Issuer to the URL partners reach this service at.");
    }
}
