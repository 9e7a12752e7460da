namespace Compliance.Consent.Partners;

/// <summary>
/// What a partner's text fields may hold before they reach a query or a record. The database refuses a NUL or a lone
/// UTF-16 surrogate with an error of its own; caught here, they are a 400 like any other malformed field.
/// </summary>
internal static class PartnerInput
{
    /// <summary>
    /// A pairwise <c>sub</c> as this service issues them (base64url), bounded: 1 to 256 visible ASCII characters.
    /// </summary>
    public static bool IsSub(string? value) => value is { Length: > 0 and <= 256 } && value.All(c => c is > ' ' and < '\u007f');

    /// <summary>1 to <paramref name="maxLength"/> characters, none a control character, every surrogate paired.</summary>
    public static bool IsPrintable(string? value, int maxLength)
    {
        if (value is not { Length: > 0 } || value.Length > maxLength)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c) || char.IsLowSurrogate(c))
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
        }

        return true;
    }
}
