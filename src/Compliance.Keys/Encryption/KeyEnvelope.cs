using System.Security.Cryptography;
using System.Text;

namespace Compliance.Keys.Encryption;

/// <summary>
/// Binds a secret to what it is for before the KEK wraps it: <c>label ‖ 0x00 ‖ secret</c>. A wrapped secret copied
/// into another row of the store (another purpose, algorithm or generation) then fails to open, though the KEK's
/// authentication alone would accept it.
/// </summary>
internal static class KeyEnvelope
{
    public static byte[] Seal(string label, ReadOnlySpan<byte> secret)
    {
        var prefix = Encoding.UTF8.GetBytes(label);
        var sealedBytes = new byte[prefix.Length + 1 + secret.Length];
        prefix.CopyTo(sealedBytes, 0);
        secret.CopyTo(sealedBytes.AsSpan(prefix.Length + 1));
        return sealedBytes;
    }

    /// <summary>Returns the secret, and clears <paramref name="sealedBytes"/>.</summary>
    public static byte[] Open(byte[] sealedBytes, string expectedLabel, string what)
    {
        try
        {
            var prefix = Encoding.UTF8.GetBytes(expectedLabel);
            if (sealedBytes.Length <= prefix.Length + 1
                || !sealedBytes.AsSpan(0, prefix.Length).SequenceEqual(prefix)
                || sealedBytes[prefix.Length] != 0)
            {
                throw new KeyCustodyException($"The wrapped {what} does not belong to its record: it was moved or altered in the store.");
            }

            return sealedBytes[(prefix.Length + 1)..];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sealedBytes);
        }
    }
}
