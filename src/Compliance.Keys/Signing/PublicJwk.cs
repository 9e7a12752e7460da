using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Signing;

/// <summary>The public half of a signing key, and nothing else: what the JWKS publishes and what validates tokens.</summary>
internal sealed class PublicJwk
{
    private const string P256Oid = "1.2.840.10045.3.1.7";

    private readonly ECParameters? _ec;
    private readonly RSAParameters? _rsa;

    private PublicJwk(ECParameters ec)
    {
        _ec = ec;
        Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve;
        Crv = JsonWebKeyECTypes.P256;
        X = Base64Url.EncodeToString(ec.Q.X);
        Y = Base64Url.EncodeToString(ec.Q.Y);
        Thumbprint = ComputeThumbprint($$"""{"crv":"{{Crv}}","kty":"{{Kty}}","x":"{{X}}","y":"{{Y}}"}""");
    }

    private PublicJwk(RSAParameters rsa)
    {
        _rsa = rsa;
        Kty = JsonWebAlgorithmsKeyTypes.RSA;
        N = Base64Url.EncodeToString(rsa.Modulus);
        E = Base64Url.EncodeToString(rsa.Exponent);
        Thumbprint = ComputeThumbprint($$"""{"e":"{{E}}","kty":"{{Kty}}","n":"{{N}}"}""");
    }

    public string Kty { get; }

    public string? Crv { get; }

    public string? X { get; }

    public string? Y { get; }

    public string? N { get; }

    public string? E { get; }

    /// <summary>The RFC 7638 JWK thumbprint (SHA-256, base64url): the key's <c>kid</c>.</summary>
    public string Thumbprint { get; }

    /// <summary>The public key of a P-256 key; throws <see cref="KeyCustodyException"/> for any other curve.</summary>
    public static PublicJwk FromEcdsa(ECDsa ecdsa)
    {
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        if (!string.Equals(parameters.Curve.Oid?.Value, P256Oid, StringComparison.Ordinal)
            && !string.Equals(parameters.Curve.Oid?.FriendlyName, ECCurve.NamedCurves.nistP256.Oid.FriendlyName, StringComparison.Ordinal))
        {
            throw new KeyCustodyException("An ES256 key must be on curve P-256.");
        }

        return new PublicJwk(parameters);
    }

    /// <summary>The public key of an RSA key of at least 2048 bits.</summary>
    public static PublicJwk FromRsa(RSA rsa)
    {
        if (rsa.KeySize < 2048)
        {
            throw new KeyCustodyException("An RS256 key must have at least 2048 bits.");
        }

        return new PublicJwk(rsa.ExportParameters(includePrivateParameters: false));
    }

    /// <summary>A new JWK with the public parameters, <c>kid</c>, <c>use</c> and <c>alg</c> only.</summary>
    public JsonWebKey ToJsonWebKey(string algorithm) => new()
    {
        Kty = Kty,
        Crv = Crv,
        X = X,
        Y = Y,
        N = N,
        E = E,
        Kid = Thumbprint,
        Use = JsonWebKeyUseNames.Sig,
        Alg = algorithm,
    };

    /// <summary>A public-only key that validates signatures; it can never sign.</summary>
    public SecurityKey ToValidationKey()
    {
        if (_ec is { } ec)
        {
            var publicOnly = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = ec.Q });
            return new ECDsaSecurityKey(publicOnly) { KeyId = Thumbprint };
        }

        var rsa = _rsa!.Value;
        return new RsaSecurityKey(new RSAParameters { Modulus = rsa.Modulus, Exponent = rsa.Exponent }) { KeyId = Thumbprint };
    }

    private static string ComputeThumbprint(string canonicalJson) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));
}
