using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Compliance.Keys.Tests.Attestation;

/// <summary>Payloads as the ledger signs them: canonical JSON carrying its own time (<c>"at"</c>, RFC 3339 UTC).</summary>
internal static class AttestationTestPayloads
{
    public const string ReceiptType = "consent-receipt+jws";

    public static byte[] At(DateTimeOffset at, string what = "receipt") =>
        Encoding.UTF8.GetBytes($$"""{"at":"{{at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)}}","what":"{{what}}"}""");

    /// <summary>The time the payload claims, as a verifier reads it.</summary>
    public static DateTimeOffset? SignedAt(ReadOnlyMemory<byte> payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.TryGetProperty("at", out var at) && at.ValueKind == JsonValueKind.String
            ? DateTimeOffset.Parse(at.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)
            : null;
    }
}
