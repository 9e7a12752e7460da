using System.Security.Cryptography;
using System.Text;

namespace Compliance.Oidc.Tokens;

/// <summary>Codes and refresh tokens are stored as SHA-256: a copy of the database yields nothing usable.</summary>
internal static class TokenHashes
{
    public static string Of(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
