using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Clients;

/// <summary>
/// Client secrets are generated here, 256 random bits, and stored only as SHA-256. A slow password hash would add
/// nothing for a secret of that entropy and would cost every token request.
/// </summary>
public static class ClientSecrets
{
    public static string Generate() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool Matches(string? storedHash, string presented)
    {
        if (storedHash is null || storedHash.Length != 64)
        {
            return false;
        }

        var expected = Convert.FromHexString(storedHash);
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }
}
