using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Compliance.Oidc.Interaction;

/// <summary>
/// A value sealed into an opaque, expiring token by a time-limited Data Protection protector, and opened again only
/// if it is intact, unexpired (by the service's <see cref="TimeProvider"/>) and of that protector's purpose.
/// </summary>
internal static class SealedJson
{
    public static string Seal<T>(ITimeLimitedDataProtector protector, T value, DateTimeOffset expiresAt) =>
        protector.Protect(JsonSerializer.Serialize(value), expiresAt);

    /// <summary>The value, or null when the token is missing, longer than <paramref name="maxLength"/>, forged, expired or of another purpose.</summary>
    public static T? Open<T>(ITimeLimitedDataProtector protector, string? token, int maxLength, TimeProvider time)
        where T : class
    {
        if (string.IsNullOrEmpty(token) || token.Length > maxLength)
        {
            return null;
        }

        try
        {
            var json = protector.Unprotect(token, out var expiration);
            return expiration < time.GetUtcNow() ? null : JsonSerializer.Deserialize<T>(json);
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }
}
