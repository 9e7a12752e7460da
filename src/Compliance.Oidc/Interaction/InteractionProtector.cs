using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Interaction;

/// <summary>
/// Seals an authorization request into an opaque, time-limited token for the sign-in and consent pages, so that no
/// node has to remember it and nobody can alter it on the way.
/// </summary>
internal sealed class InteractionProtector(IDataProtectionProvider provider, IOptions<OidcOptions> options, TimeProvider time)
{
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Compliance.Oidc.Interaction.v1").ToTimeLimitedDataProtector();

    public string Protect(AuthorizationRequest request) =>
        _protector.Protect(JsonSerializer.Serialize(request), time.GetUtcNow().AddMinutes(options.Value.InteractionLifetimeMinutes));

    public AuthorizationRequest? Unprotect(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 16_384)
        {
            return null;
        }

        try
        {
            var json = _protector.Unprotect(token, out var expiration);
            return expiration < time.GetUtcNow() ? null : JsonSerializer.Deserialize<AuthorizationRequest>(json);
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }
}
