namespace Compliance.Keys.Encryption;

/// <summary>
/// The refusals every key-encryption key makes before it unwraps anything, with the same words whatever the custody:
/// a key wrapped by another KEK, another algorithm, or bytes of impossible length. Messages quote ids and algorithms
/// from the store only through <see cref="Printable"/>, never bytes.
/// </summary>
internal static class WrappedKeyChecks
{
    /// <summary>The largest data key a KEK wraps.</summary>
    public const int MaxDataKeyBytes = 16 * 1024;

    /// <summary>Refuses to wrap an empty or oversized data key.</summary>
    public static void RequireDataKeyLength(int length)
    {
        if (length is 0 or > MaxDataKeyBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"A data key is 1 to {MaxDataKeyBytes} bytes.");
        }
    }

    /// <summary>Refuses a key that <paramref name="holder"/> (this node's KEK, described for the operator) did not wrap.</summary>
    public static void RequireWrappedBy(WrappedKey wrapped, bool recognised, string holder)
    {
        if (!recognised)
        {
            throw new KeyCustodyException(
                $"The key was wrapped by key-encryption key '{Printable(wrapped.KeyId)}', but this node holds {holder}. "
                + "Every node must hold the same key-encryption key.");
        }
    }

    /// <summary>Refuses another algorithm, or a ciphertext whose data key would be empty or too long; returns the data key's length.</summary>
    public static int RequireShape(WrappedKey wrapped, string algorithm, int overhead)
    {
        if (!string.Equals(wrapped.Algorithm, algorithm, StringComparison.Ordinal))
        {
            throw new KeyCustodyException($"Unsupported wrapping algorithm '{Printable(wrapped.Algorithm)}'; expected {algorithm}.");
        }

        var length = (wrapped.Ciphertext?.Length ?? 0) - overhead;
        return length is >= 1 and <= MaxDataKeyBytes
            ? length
            : throw new KeyCustodyException($"The wrapped key has an impossible length for {algorithm}: it was truncated or altered.");
    }

    /// <summary>At most 300 characters (a Key Vault kid is long), control characters replaced: a value from the store, safe in one line.</summary>
    public static string Printable(string? value) =>
        value is null ? "" : new string([.. value.Take(300).Select(c => char.IsControl(c) ? '?' : c)]);
}
