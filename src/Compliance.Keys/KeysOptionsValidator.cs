using Microsoft.Extensions.Options;

namespace Compliance.Keys;

/// <summary>Checks the key custody settings at start-up; every message names the setting and the reason.</summary>
internal sealed class KeysOptionsValidator : IValidateOptions<KeysOptions>
{
    public const int MinLifetimeDays = 2;
    public const int MaxLifetimeDays = 365;
    public const int MinPublishDays = 1;
    public const int MaxPublishDays = 90;
    public const int MinAttestationRotationDays = 30;
    public const int MaxAttestationRotationDays = 1825;

    public ValidateOptionsResult Validate(string? name, KeysOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        failures.AddRange(KekProblems(options, "Keys"));
        if (options.Previous is { } previous)
        {
            failures.AddRange(KekProblems(previous, "Keys:Previous"));
        }

        var lifetimeInRange = options.SigningKeyLifetimeDays is >= MinLifetimeDays and <= MaxLifetimeDays;
        if (!lifetimeInRange)
        {
            failures.Add($"Keys:SigningKeyLifetimeDays: {options.SigningKeyLifetimeDays} is out of range; expected {MinLifetimeDays} to {MaxLifetimeDays}.");
        }

        if (options.PrePublishDays is < MinPublishDays or > MaxPublishDays)
        {
            failures.Add($"Keys:PrePublishDays: {options.PrePublishDays} is out of range; expected {MinPublishDays} to {MaxPublishDays}.");
        }
        else if (lifetimeInRange && options.PrePublishDays >= options.SigningKeyLifetimeDays)
        {
            failures.Add($"Keys:PrePublishDays: {options.PrePublishDays} must be shorter than Keys:SigningKeyLifetimeDays ({options.SigningKeyLifetimeDays}), "
                + "or the next key could never be published before it signs.");
        }

        if (options.RetiredKeyPublishDays is < MinPublishDays or > MaxPublishDays)
        {
            failures.Add($"Keys:RetiredKeyPublishDays: {options.RetiredKeyPublishDays} is out of range; expected {MinPublishDays} to {MaxPublishDays}.");
        }

        if (options.Attestation is null)
        {
            failures.Add("Keys:Attestation: must not be empty; leave it unset for the defaults.");
        }
        else if (options.Attestation.RotationDays is < MinAttestationRotationDays or > MaxAttestationRotationDays)
        {
            failures.Add($"Keys:Attestation:RotationDays: {options.Attestation.RotationDays} is out of range; expected {MinAttestationRotationDays} to {MaxAttestationRotationDays}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The problems of one key-encryption key's settings, each naming its setting under <paramref name="section"/>.</summary>
    public static IEnumerable<string> KekProblems(KekSettings kek, string section)
    {
        switch (kek.Kek)
        {
            case KekSettings.Local:
                if (kek.LocalKekPath is not null && PathProblem(kek.LocalKekPath) is { } problem)
                {
                    yield return $"{section}:LocalKekPath: {problem}";
                }

                break;
            case KekSettings.Pkcs11Token:
                foreach (var tokenProblem in kek.Pkcs11.Problems($"{section}:Pkcs11"))
                {
                    yield return tokenProblem;
                }

                break;
            case KekSettings.AzureKeyVaultKey:
                foreach (var vaultProblem in kek.AzureKeyVault.Problems($"{section}:AzureKeyVault"))
                {
                    yield return vaultProblem;
                }

                break;
            default:
                yield return $"{section}:Kek: '{Truncate(kek.Kek ?? "")}' is not a key custody; expected {string.Join(", ", KekSettings.Kinds)}.";
                break;
        }
    }

    private static string? PathProblem(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "must not be blank; leave it unset for the default (kek.key in Storage:DataDirectory).";
        }

        if (path.EndsWith(Path.DirectorySeparatorChar) || path.EndsWith(Path.AltDirectorySeparatorChar))
        {
            return $"'{Truncate(path)}' names a folder; it must name a file.";
        }

        try
        {
            if (Directory.Exists(Path.GetFullPath(path)))
            {
                return $"'{Truncate(path)}' is a folder; it must name a file.";
            }
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"'{Truncate(path)}' is not a valid path.";
        }

        return null;
    }

    private static string Truncate(string value) =>
        value.Length <= 128 ? value : string.Concat(value.AsSpan(0, 128), "…");
}
