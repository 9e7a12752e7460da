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

    /// <summary>
    /// Whether <paramref name="presented"/> is the client's secret, or its previous secret before that one's overlap
    /// ends. Both comparisons always run, in fixed time, so the timing tells nothing about which one matched.
    /// </summary>
    public static bool Matches(Client client, string presented, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(client);
        var current = Matches(client.SecretHash, presented);
        var previous = Matches(client.PreviousSecretHash, presented);
        var inOverlap = client.PreviousSecretExpiresAt is { } expiresAt && now < expiresAt;
        return current | (previous & inOverlap);
    }

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
