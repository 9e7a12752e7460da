using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Identity;

namespace Compliance.Oidc.Accounts;

/// <summary>Why a password was refused; <see cref="Accepted"/> when it was not.</summary>
internal enum PasswordVerdict
{
    Accepted,
    WrongLength,
    ContainsPseudonym,
    Common,
}

/// <summary>
/// The password rules, offline and explainable: 12 to 256 characters (length over composition, as ANSSI and NIST
/// advise), not containing the pseudonym, and not built from what attackers try first. The last rule strips from the
/// password, case and accents aside and with common look-alikes read as letters (<c>p@ssw0rd</c>), every word of the
/// shipped list <c>common-passwords.txt</c> (frequent base words of breached passwords, English and French), every
/// run of three or more along the alphabet, the digits or a keyboard row (<c>abc</c>, <c>123</c>, <c>azertyuiop</c>),
/// every year, and repeats of one chunk; what remains must be at least 4 letters or symbols, or 8 digits. So
/// <c>motdepasse123</c>, <c>azertyuiop12</c>, <c>123456789012</c> and <c>Soleil2024!!</c> are refused, and a passphrase
/// such as <c>correct horse battery staple 42</c> is not. A list of a few hundred words cannot hold every breach: the
/// per-pseudonym lockout bounds online guessing, and this rule removes the guesses tried first.
/// </summary>
internal static class PasswordPolicy
{
    public const int MinLength = 12;
    public const int MaxLength = 256;
    private const int MinOwnCharacters = 4;
    private const int MinOwnDigits = 8;

    // Keyboard rows (French AZERTY and QWERTY), the alphabet, the digits, and QWERTY's columns (1qaz2wsx...).
    private static readonly string[] Sequences = Both(
        "abcdefghijklmnopqrstuvwxyz", "01234567890", "azertyuiop", "qsdfghjklm", "wxcvbn", "qwertyuiop", "asdfghjkl", "zxcvbnm",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1azq2zsw3edx4rfc5tgv6yhb7ujn8ik9ol0pm");

    private static readonly string[] CommonWords = LoadCommonWords();

    public static PasswordVerdict Check(string? password, string? pseudonym)
    {
        if (password is null || password.Length is < MinLength or > MaxLength)
        {
            return PasswordVerdict.WrongLength;
        }

        var chars = Skeleton(password);
        if (!string.IsNullOrEmpty(pseudonym)
            && (password.Contains(pseudonym, StringComparison.OrdinalIgnoreCase)
                || (Skeleton(pseudonym) is { Length: >= 3 } bare && new string(chars).Contains(new string(bare), StringComparison.Ordinal))))
        {
            return PasswordVerdict.ContainsPseudonym;
        }

        return IsCommon(chars) ? PasswordVerdict.Common : PasswordVerdict.Accepted;
    }

    private static bool IsCommon(char[] chars)
    {
        if (chars.Distinct().Count() < 5)
        {
            return true;
        }

        var plain = Unrepeated(new string(chars));
        var readable = new string([.. plain.Select(ReadAsLetter)]);
        var removed = new bool[plain.Length];
        foreach (var word in CommonWords)
        {
            Mark(removed, readable, word);
            Mark(removed, plain, word);
        }

        MarkRuns(removed, plain);
        MarkYears(removed, plain);

        var own = Enumerable.Range(0, plain.Length).Where(i => !removed[i]).Select(i => plain[i]).ToList();
        var digits = own.Count(char.IsAsciiDigit);
        return own.Count - digits < MinOwnCharacters && digits < MinOwnDigits;
    }

    /// <summary>Lower case, accents removed; letters, digits and the symbols that stand for letters, nothing else.</summary>
    private static char[] Skeleton(string text) =>
        [.. text.Normalize(NormalizationForm.FormD)
            .Where(c => char.IsLetterOrDigit(c) || c is '@' or '$' or '!' or '€')
            .Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            .Select(char.ToLowerInvariant)];

    private static char ReadAsLetter(char c) => c switch
    {
        '0' => 'o',
        '1' or '!' => 'i',
        '3' or '€' => 'e',
        '4' or '@' => 'a',
        '5' or '$' => 's',
        '7' => 't',
        _ => c,
    };

    /// <summary>A chunk repeated (<c>soleilsoleil</c>) counts once.</summary>
    private static string Unrepeated(string text)
    {
        for (var period = 1; period <= text.Length / 2; period++)
        {
            if (text.Length % period == 0 && text.AsSpan(0, text.Length - period).SequenceEqual(text.AsSpan(period)))
            {
                return text[..period];
            }
        }

        return text;
    }

    private static void Mark(bool[] removed, string text, string word)
    {
        for (var at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + 1, StringComparison.Ordinal))
        {
            Array.Fill(removed, true, at, word.Length);
        }
    }

    private static void MarkRuns(bool[] removed, string text)
    {
        foreach (var sequence in Sequences)
        {
            for (var start = 0; start < text.Length; start++)
            {
                var length = 0;
                while (start + length < text.Length && sequence.AsSpan().Contains(text.AsSpan(start, length + 1), StringComparison.Ordinal))
                {
                    length++;
                }

                if (length >= 3)
                {
                    Array.Fill(removed, true, start, length);
                }
            }
        }
    }

    private static void MarkYears(bool[] removed, string text)
    {
        for (var at = 0; at + 4 <= text.Length; at++)
        {
            var span = text.AsSpan(at, 4);
            if ((span.StartsWith("19", StringComparison.Ordinal) || span.StartsWith("20", StringComparison.Ordinal)) && !span.ContainsAnyExceptInRange('0', '9'))
            {
                Array.Fill(removed, true, at, 4);
            }
        }
    }

    private static string[] Both(params string[] sequences) =>
        [.. sequences, .. sequences.Select(s => new string([.. s.Reverse()]))];

    private static string[] LoadCommonWords()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("Compliance.Oidc.Accounts.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return [.. reader.ReadToEnd().Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length >= 4 && !line.StartsWith('#'))
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(word => word.Length)];
    }
}

/// <summary>Applies <see cref="PasswordPolicy"/> wherever Identity sets a password (sign-up, the demo seed, later changes).</summary>
internal sealed class PasswordPolicyValidator : IPasswordValidator<Account>
{
    public const string ContainsPseudonymCode = "PasswordContainsPseudonym";
    public const string CommonCode = "PasswordCommon";

    public Task<IdentityResult> ValidateAsync(UserManager<Account> manager, Account user, string? password)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Task.FromResult(PasswordPolicy.Check(password, user.UserName) switch
        {
            PasswordVerdict.ContainsPseudonym => IdentityResult.Failed(new IdentityError { Code = ContainsPseudonymCode, Description = "The password contains the pseudonym." }),
            PasswordVerdict.Common => IdentityResult.Failed(new IdentityError { Code = CommonCode, Description = "The password is too common." }),
            PasswordVerdict.WrongLength => IdentityResult.Failed(new IdentityError { Code = nameof(IdentityErrorDescriber.PasswordTooShort), Description = "The password must have 12 to 256 characters." }),
            _ => IdentityResult.Success,
        });
    }
}
