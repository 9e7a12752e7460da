using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// What a patient's authenticator app shows for a base32 key read off the page: RFC 6238 with HMAC-SHA1, 30-second
/// steps from the Unix epoch, 6 digits. Written here independently of the server's code, and checked against the
/// RFC's own test vectors.
/// </summary>
internal static class AuthenticatorApp
{
    public const int StepSeconds = 30;

    /// <summary>The time step that real time is in now.</summary>
    public static long CurrentStep() => StepAt(DateTimeOffset.UtcNow);

    public static long StepAt(DateTimeOffset at) => at.ToUnixTimeSeconds() / StepSeconds;

    /// <summary>The code of <paramref name="step"/> for a base32 key (RFC 4648 alphabet, no padding).</summary>
    public static string CodeAt(string base32Key, long step, int digits = 6) => CodeAt(Base32Decode(base32Key), step, digits);

    public static string CodeAt(byte[] key, long step, int digits = 6)
    {
        var counter = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238's HMAC-SHA1, as authenticator apps compute it
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFF_FFFF) % (int)Math.Pow(10, digits);
        return value.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>
    /// The first step after <paramref name="lastUsedStep"/> that the app shows now or is about to show: the current
    /// step when it is later than the last one used, otherwise the next one. A server accepts one step either side of
    /// its clock (RFC 6238 §6), so the next step's code is what an app a few seconds fast shows; the server stays strict
    /// about single use, because that step is still after the last one it accepted.
    /// </summary>
    public static long NextUsableStep(long lastUsedStep) => Math.Max(CurrentStep(), lastUsedStep + 1);

    private static byte[] Base32Decode(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            var value = Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException($"'{c}' is not base32.");
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }
}
