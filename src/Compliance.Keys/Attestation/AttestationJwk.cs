using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Compliance.Keys.Attestation;

/// <summary>The public P-256 key of an attestation key, as its JWK carries it: kty, crv, x, y (and kid, alg, use).</summary>
internal sealed class AttestationJwk
{
    private static readonly HashSet<string> Members = new(StringComparer.Ordinal) { "kty", "crv", "x", "y", "kid", "alg", "use" };

    private AttestationJwk(byte[] x, byte[] y)
    {
        X = Base64Url.EncodeToString(x);
        Y = Base64Url.EncodeToString(y);
        Point = new ECPoint { X = x, Y = y };
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($$"""{"crv":"P-256","kty":"EC","x":"{{X}}","y":"{{Y}}"}""")));
    }

    public string X { get; }

    public string Y { get; }

    /// <summary>The RFC 7638 thumbprint (SHA-256, base64url): the key's kid.</summary>
    public string Thumbprint { get; }

    private ECPoint Point { get; }

    /// <summary>The public half of a P-256 key; throws <see cref="KeyCustodyException"/> for another curve.</summary>
    public static AttestationJwk FromEcdsa(ECDsa ecdsa)
    {
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value
            && parameters.Curve.Oid?.FriendlyName != ECCurve.NamedCurves.nistP256.Oid.FriendlyName)
        {
            throw new KeyCustodyException("An attestation key must be on curve P-256.");
        }

        return new AttestationJwk(parameters.Q.X!, parameters.Q.Y!);
    }

    /// <summary>
    /// Reads a public P-256 JWK; null when it is anything else: not JSON, another key type or curve, coordinates that
    /// are not 32 bytes or not a point of the curve, or a member beyond the public ones (a private <c>d</c> above all).
    /// </summary>
    public static AttestationJwk? Parse(string? json)
    {
        if (json is null || json.Length > 1024)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 2 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Any(p => !Members.Contains(p.Name) || p.Value.ValueKind != JsonValueKind.String))
            {
                return null;
            }

            if (Member(root, "kty") != "EC" || Member(root, "crv") != "P-256"
                || Member(root, "alg") is { } alg && alg != AttestationVerifier.Algorithm
                || Member(root, "use") is { } use && use != "sig"
                || Coordinate(Member(root, "x")) is not { } x || Coordinate(Member(root, "y")) is not { } y)
            {
                return null;
            }

            var jwk = new AttestationJwk(x, y);
            using var check = jwk.Create(); // refuses a point that is not on the curve
            return jwk;
        }
        catch (Exception e) when (e is JsonException or CryptographicException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="signature"/> (r ‖ s, 64 bytes) signs <paramref name="data"/>.</summary>
    public bool Verify(byte[] data, byte[] signature)
    {
        try
        {
            using var ecdsa = Create();
            return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The JWK as this service publishes it: public members only.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, Thumbprint);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public void Write(Utf8JsonWriter json, string kid)
    {
        json.WriteStartObject();
        json.WriteString("kty", "EC");
        json.WriteString("crv", "P-256");
        json.WriteString("x", X);
        json.WriteString("y", Y);
        json.WriteString("kid", kid);
        json.WriteString("alg", AttestationVerifier.Algorithm);
        json.WriteString("use", "sig");
        json.WriteEndObject();
    }

    private ECDsa Create() => ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = Point });

    private static string? Member(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static byte[]? Coordinate(string? value)
    {
        if (value is not { Length: 43 } || !value.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
        {
            return null;
        }

        var bytes = Base64Url.DecodeFromChars(value);
        return bytes.Length == 32 && Base64Url.EncodeToString(bytes) == value ? bytes : null;
    }
}
