using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Compliance.Keys.Attestation;

/// <summary>
/// Offline verification of attestations: no database, no dependency injection, only the published key set. An
/// auditor (or the patient's own tool) checks a receipt years later with this class and the key set document.
/// </summary>
public static class AttestationVerifier
{
    /// <summary>The only algorithm: ECDSA on P-256 with SHA-256, signatures in the JWS (IEEE P1363) form.</summary>
    public const string Algorithm = "ES256";

    /// <summary>The largest compact JWS verified (a receipt with its inclusion proof is a few KiB).</summary>
    public const int MaxJwsLength = 1024 * 1024;

    private const int MaxHeaderLength = 1024;
    private const int MaxKeyIdLength = 64;
    private const int MaxTypeLength = 64;
    private const int MaxKeySetLength = 4 * 1024 * 1024;
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";

    /// <summary>
    /// The published key set document (what <c>/ledger/keys</c> serves):
    /// <c>{"keys":[{"kid","alg","jwk":{...public...},"valid_from","retired_at","compromised_from"}]}</c>, times in
    /// RFC 3339 UTC. Only the public members of each JWK (kty, crv, x, y, kid, alg, use) are written.
    /// </summary>
    public static string KeySetJson(IReadOnlyList<AttestationKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys)
            {
                var jwk = AttestationJwk.Parse(key.PublicJwkJson) ?? throw new ArgumentException($"The public JWK of attestation key {Printable(key.KeyId)} is not a P-256 public key.", nameof(keys));
                json.WriteStartObject();
                json.WriteString("kid", key.KeyId);
                json.WriteString("alg", key.Algorithm);
                json.WritePropertyName("jwk");
                jwk.Write(json, key.KeyId);
                json.WriteString("valid_from", Format(key.ValidFrom));
                WriteTime(json, "retired_at", key.RetiredAt);
                WriteTime(json, "compromised_from", key.CompromisedFrom);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Reads a key set document written by <see cref="KeySetJson"/>. Throws <see cref="FormatException"/>, with a
    /// one-line message, on anything else: not JSON, a missing or mistyped member, a time that is not RFC 3339 UTC, a
    /// JWK that is not a P-256 public key (or carries a private member), a kid that is not its thumbprint, a kid twice.
    /// </summary>
    public static IReadOnlyList<AttestationKey> ParseKeySet(string json)
    {
        if (string.IsNullOrEmpty(json) || json.Length > MaxKeySetLength)
        {
            throw new FormatException("The attestation key set is empty or too large.");
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("The attestation key set has no \"keys\" array.");
            }

            var keys = new List<AttestationKey>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var element in array.EnumerateArray())
            {
                var key = ReadKey(element, keys.Count);
                if (!seen.Add(key.KeyId))
                {
                    throw new FormatException($"The attestation key set names kid {key.KeyId} twice.");
                }

                keys.Add(key);
            }

            return keys;
        }
        catch (JsonException)
        {
            // JsonException's message quotes the input's position only, but keep ours fixed and short.
            throw new FormatException("The attestation key set is not valid JSON.");
        }
    }

    /// <summary>
    /// Verifies a compact JWS against a key set: the kid is known (once), the alg is ES256 (nothing else, never
    /// <c>none</c>), the typ equals <paramref name="expectedType"/>, the signature is valid, and the time
    /// <paramref name="signedAtOf"/> reads from the payload lies in [valid_from, retired_at) and before
    /// compromised_from when set. Returns the payload, or a refusal reason; never throws on hostile input.
    /// </summary>
    public static AttestationCheck Verify(
        string jws, IReadOnlyList<AttestationKey> keys, string expectedType, Func<ReadOnlyMemory<byte>, DateTimeOffset?> signedAtOf)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(signedAtOf);
        if (string.IsNullOrEmpty(jws) || jws.Length > MaxJwsLength)
        {
            return Refuse("The attestation is empty or too long.");
        }

        var parts = jws.Split('.');
        if (parts.Length != 3)
        {
            return Refuse("The attestation is not a compact JWS (three parts separated by dots).");
        }

        if (parts[0].Length > MaxHeaderLength)
        {
            return Refuse("The attestation's header is too long.");
        }

        if (Decode(parts[0]) is not { } headerBytes || Decode(parts[1]) is not { } payload || Decode(parts[2]) is not { } signature)
        {
            return Refuse("The attestation is not base64url.");
        }

        if (ReadHeader(headerBytes) is not { } header)
        {
            return Refuse("The attestation's header is not a JSON object of alg, kid and typ.");
        }

        if (!string.Equals(header.Alg, Algorithm, StringComparison.Ordinal))
        {
            return Refuse($"The attestation's algorithm {Printable(header.Alg)} is not allowed; only {Algorithm} is.");
        }

        if (!IsKeyId(header.Kid))
        {
            return Refuse("The attestation's kid is malformed.");
        }

        if (!string.Equals(header.Typ, expectedType, StringComparison.Ordinal))
        {
            return Refuse($"The attestation's type {Printable(header.Typ)} is not the expected {Printable(expectedType)}.", header.Kid);
        }

        var matching = keys.Where(k => k is not null && string.Equals(k.KeyId, header.Kid, StringComparison.Ordinal)).ToList();
        if (matching.Count > 1)
        {
            return Refuse($"The key set names kid {header.Kid} more than once: it is not a published key set.", header.Kid);
        }

        if (matching.Count == 0)
        {
            return Refuse($"No key with kid {header.Kid} is in the key set.", header.Kid);
        }

        var key = matching[0];
        if (!string.Equals(key.Algorithm, Algorithm, StringComparison.Ordinal)
            || AttestationJwk.Parse(key.PublicJwkJson) is not { } jwk
            || !string.Equals(jwk.Thumbprint, key.KeyId, StringComparison.Ordinal))
        {
            return Refuse($"The key {header.Kid} in the key set is not a P-256 key whose kid is its thumbprint.", header.Kid);
        }

        // P1363: r and s, 32 bytes each. A DER signature, a trimmed one or one padded with zeros is refused here.
        if (signature.Length != 64 || !jwk.Verify(Encoding.ASCII.GetBytes(string.Concat(parts[0], ".", parts[1])), signature))
        {
            return Refuse($"The attestation's signature does not verify with key {header.Kid}.", header.Kid);
        }

        DateTimeOffset? signedAt;
        try
        {
            signedAt = signedAtOf(payload);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refuse("The attestation's payload has no readable signing time.", header.Kid);
        }

        if (signedAt is not { } at)
        {
            return Refuse("The attestation's payload has no signing time.", header.Kid);
        }

        if (at < key.ValidFrom)
        {
            return Refuse($"The attestation claims {Format(at)}, before key {header.Kid} was valid ({Format(key.ValidFrom)}).", header.Kid);
        }

        if (key.RetiredAt is { } retired && at >= retired)
        {
            return Refuse($"The attestation claims {Format(at)}, after key {header.Kid} was retired ({Format(retired)}).", header.Kid);
        }

        if (key.CompromisedFrom is { } compromised && at >= compromised)
        {
            return Refuse($"The attestation claims {Format(at)}, when key {header.Kid} was compromised (from {Format(compromised)}): it is void.", header.Kid);
        }

        return new AttestationCheck(true, header.Kid, payload, null);
    }

    /// <summary>An RFC 3339 UTC time: whole seconds as <c>2026-12-01T10:00:00Z</c>, fractions only when there are some.</summary>
    internal static string Format(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>A kid as this service makes them: a base64url SHA-256 thumbprint (43 characters), nothing that could break a line.</summary>
    internal static bool IsKeyId(string? value) =>
        value is { Length: > 0 and <= MaxKeyIdLength } && value.All(IsBase64UrlChar);

    /// <summary>A JWS typ as this service makes them: 1 to 64 letters, digits and <c>+ - . _ /</c> (nothing to escape in JSON).</summary>
    internal static bool IsType(string? value) =>
        value is { Length: > 0 and <= MaxTypeLength } && value.All(c => IsBase64UrlChar(c) || c is '+' or '.' or '/');

    internal static string Encode(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    private static AttestationCheck Refuse(string reason, string? keyId = null) => new(false, keyId, null, reason);

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } value)
        {
            json.WriteString(name, Format(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static AttestationKey ReadKey(JsonElement element, int index)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Key {index} of the attestation key set is not an object.");
        }

        var kid = String(element, "kid", index);
        if (!IsKeyId(kid))
        {
            throw new FormatException($"Key {index} of the attestation key set has a malformed kid.");
        }

        var alg = String(element, "alg", index);
        if (alg != Algorithm)
        {
            throw new FormatException($"Key {kid} of the attestation key set has algorithm {Printable(alg)}; only {Algorithm} is used.");
        }

        if (!element.TryGetProperty("jwk", out var jwkElement) || jwkElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Key {kid} of the attestation key set has no jwk object.");
        }

        var jwkJson = jwkElement.GetRawText();
        var jwk = AttestationJwk.Parse(jwkJson) ?? throw new FormatException($"Key {kid} of the attestation key set is not a P-256 public JWK.");
        if (jwk.Thumbprint != kid)
        {
            throw new FormatException($"Key {kid} of the attestation key set is not the thumbprint of its JWK.");
        }

        return new AttestationKey(kid, alg, jwkJson, Time(element, "valid_from", kid, required: true)!.Value,
            Time(element, "retired_at", kid, required: false), Time(element, "compromised_from", kid, required: false));
    }

    private static string String(JsonElement element, string name, int index) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"Key {index} of the attestation key set has no string \"{name}\".");

    private static DateTimeOffset? Time(JsonElement element, string name, string kid, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new FormatException($"Key {kid} of the attestation key set has no \"{name}\".") : null;
        }

        if (value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: <= 40 } text
            && DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new FormatException($"Key {kid} of the attestation key set has a \"{name}\" that is not an RFC 3339 UTC time.");
    }

    private static Header? ReadHeader(byte[] bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 2 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? alg = null, kid = null, typ = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return null;
                }

                var value = reader.GetString();
                switch (name)
                {
                    case "alg" when alg is null:
                        alg = value;
                        break;
                    case "kid" when kid is null:
                        kid = value;
                        break;
                    case "typ" when typ is null:
                        typ = value;
                        break;
                    default:
                        // A duplicate member, or any other (crit, jku, x5u, jwk...): we never honour them, so refuse.
                        return null;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && !reader.Read() && alg is not null && kid is not null && typ is not null
                ? new Header(alg, kid, typ)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[]? Decode(string part)
    {
        // Unpadded base64url only: padding, whitespace or any other character is refused, not skipped.
        if (!part.All(IsBase64UrlChar) || part.Length % 4 == 1)
        {
            return null;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(part);

            // The unused bits of the last character must be zero: one encoding per byte string.
            return Base64Url.EncodeToString(bytes) == part ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsBase64UrlChar(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_';

    private static string Printable(string? value) =>
        value is null ? "(none)" : new string([.. value.Take(64).Select(c => c is >= ' ' and < (char)127 ? c : '?')]);

    private sealed record Header(string Alg, string Kid, string Typ);
}

/// <summary>The outcome of <see cref="AttestationVerifier.Verify"/>.</summary>
/// <param name="Valid">Whether the attestation verifies.</param>
/// <param name="KeyId">The kid of the header, once it was read.</param>
/// <param name="Payload">The signed payload, when valid.</param>
/// <param name="Refusal">Why it does not verify, in one line; null when valid.</param>
public sealed record AttestationCheck(bool Valid, string? KeyId, byte[]? Payload, string? Refusal);
