using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>
/// RFC 6238 time-based one-time passwords as authenticator apps compute them: HMAC-SHA1, 30-second steps from the
/// Unix epoch, six digits (RFC 4226 §5.3 dynamic truncation).
/// </summary>
internal static class Totp
{
    public const int StepSeconds = 30;
    public const int Digits = 6;
    public const int SecretBytes = 20; // RFC 4226 §4: at least 128 bits, 160 recommended

    /// <summary>The time step that contains <paramref name="at"/>.</summary>
    public static long StepAt(DateTimeOffset at) => at.ToUnixTimeSeconds() / StepSeconds;

    /// <summary>The code of one time step, zero-padded to <paramref name="digits"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> secret, long step, int digits = Digits)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
#pragma warning disable CA5350 // HMAC-SHA1 is what RFC 6238 and every authenticator app use; HMAC does not rest on SHA-1's collision resistance.
        HMACSHA1.HashData(secret, counter, hash);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var binary = BinaryPrimitives.ReadInt32BigEndian(hash[offset..]) & 0x7FFF_FFFF;
        var modulo = (int)Math.Pow(10, digits);
        return (binary % modulo).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>
    /// The time step whose code <paramref name="code"/> is, among the step of <paramref name="at"/> and one step either
    /// side (clock drift, RFC 6238 §6), compared in fixed time; null when none matches or the code is malformed.
    /// </summary>
    public static long? MatchingStep(ReadOnlySpan<byte> secret, string? code, DateTimeOffset at)
    {
        if (code is null || code.Length != Digits || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        var now = StepAt(at);
        long? matched = null;
        for (var step = now - 1; step <= now + 1; step++)
        {
            // Every candidate is computed and compared, so that the time taken says nothing about which one matched.
            if (CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(Compute(secret, step)), System.Text.Encoding.ASCII.GetBytes(code)))
            {
                matched = step;
            }
        }

        return matched;
    }
}
