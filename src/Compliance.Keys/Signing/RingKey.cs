using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Signing;

/// <summary>
/// A signing key as a node holds it in memory: its public half always, its private half only while it may sign
/// (current or next). A key that could not be unwrapped or checked carries the reason and is neither used nor published.
/// </summary>
internal sealed class RingKey : IScheduledKey
{
    private RingKey(string keyId, string algorithm, int generation, DateTimeOffset activatesAt)
    {
        KeyId = keyId;
        Algorithm = algorithm;
        Generation = generation;
        ActivatesAt = activatesAt;
    }

    public string KeyId { get; }

    public string Algorithm { get; }

    public int Generation { get; }

    public DateTimeOffset ActivatesAt { get; }

    public PublicJwk? Public { get; private init; }

    public SecurityKey? ValidationKey { get; private init; }

    /// <summary>The shared credentials, or <c>null</c> when this node holds no private key for it.</summary>
    public SigningCredentials? Signing { get; private init; }

    /// <summary>The private key object behind <see cref="Signing"/>, to dispose once no caller can still hold it.</summary>
    public AsymmetricAlgorithm? PrivateKey { get; private init; }

    /// <summary>Why the key is unusable, in words fit for a log line; <c>null</c> when usable.</summary>
    public string? Problem { get; private init; }

    public bool Matches(SigningKey row) =>
        row.Generation == Generation && row.ActivatesAt == ActivatesAt && string.Equals(row.Algorithm, Algorithm, StringComparison.Ordinal);

    public static RingKey Unusable(SigningKey row, string problem) =>
        new(row.KeyId, row.Algorithm, row.Generation, row.ActivatesAt) { Problem = problem };

    /// <summary>
    /// Checks an unwrapped PKCS#8 key against its row (key type, curve or size, and <c>kid</c> = thumbprint) and keeps
    /// the private key only when <paramref name="mayStillSign"/>. Throws <see cref="KeyCustodyException"/> or
    /// <see cref="CryptographicException"/>.
    /// </summary>
    public static RingKey FromPrivateKey(SigningKey row, ReadOnlySpan<byte> pkcs8, bool mayStillSign)
    {
        AsymmetricAlgorithm algorithm;
        PublicJwk publicJwk;
        SecurityKey privateSecurityKey;
        if (row.Algorithm == SigningAlgorithms.ES256)
        {
            var ecdsa = ECDsa.Create();
            algorithm = ecdsa;
            ImportPkcs8(ecdsa, pkcs8);
            publicJwk = Checked(() => PublicJwk.FromEcdsa(ecdsa), ecdsa);
            privateSecurityKey = new ECDsaSecurityKey(ecdsa) { KeyId = publicJwk.Thumbprint };
        }
        else
        {
            var rsa = RSA.Create();
            algorithm = rsa;
            ImportPkcs8(rsa, pkcs8);
            publicJwk = Checked(() => PublicJwk.FromRsa(rsa), rsa);
            privateSecurityKey = new RsaSecurityKey(rsa) { KeyId = publicJwk.Thumbprint };
        }

        if (!string.Equals(publicJwk.Thumbprint, row.KeyId, StringComparison.Ordinal))
        {
            algorithm.Dispose();
            throw new KeyCustodyException("its key id is not the thumbprint of its key: the record was altered in the store.");
        }

        // A factory of its own: IdentityModel's shared factory caches signature providers by key thumbprint, so a
        // second instance of the same key (another host in the process, a key re-opened after a refresh) would be
        // handed the provider of a disposed instance.
        privateSecurityKey.CryptoProviderFactory = new CryptoProviderFactory();
        var key = new RingKey(row.KeyId, row.Algorithm, row.Generation, row.ActivatesAt)
        {
            Public = publicJwk,
            ValidationKey = publicJwk.ToValidationKey(),
            Signing = mayStillSign ? new SigningCredentials(privateSecurityKey, row.Algorithm) : null,
            PrivateKey = mayStillSign ? algorithm : null,
        };
        if (!mayStillSign)
        {
            algorithm.Dispose();
        }

        return key;
    }

    /// <summary>The same key without its private half, for a key that has stopped signing.</summary>
    public RingKey WithoutPrivateKey() => new(KeyId, Algorithm, Generation, ActivatesAt)
    {
        Public = Public,
        ValidationKey = ValidationKey,
        Problem = Problem,
    };

    private static void ImportPkcs8(AsymmetricAlgorithm algorithm, ReadOnlySpan<byte> pkcs8)
    {
        try
        {
            algorithm.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
            {
                throw new KeyCustodyException("its private key has trailing bytes.");
            }
        }
        catch
        {
            algorithm.Dispose();
            throw;
        }
    }

    private static PublicJwk Checked(Func<PublicJwk> read, AsymmetricAlgorithm algorithm)
    {
        try
        {
            return read();
        }
        catch
        {
            algorithm.Dispose();
            throw;
        }
    }
}
