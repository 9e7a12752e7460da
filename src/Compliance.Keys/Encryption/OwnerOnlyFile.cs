namespace Compliance.Keys.Encryption;

/// <summary>
/// The rule for every file that holds a secret of key custody (the local KEK, a PKCS#11 PIN, a Key Vault client
/// secret): readable and writable by its owner only.
/// </summary>
internal static class OwnerOnlyFile
{
    public const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Null when only the owner may use <paramref name="path"/>; otherwise the end of a refusal, naming its mode.</summary>
    public static string? ModeProblem(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        return (mode & GroupOrOther) == 0
            ? null
            : $"is accessible to other users (mode {Convert.ToString((int)mode, 8)}); restrict it to its owner (chmod 600).";
    }
}
