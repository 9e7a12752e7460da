using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Compliance.Keys.Encryption;

/// <summary>
/// Puts a finished file in place only if nothing is there yet, atomically, so that processes racing to create the
/// same key file all end up reading one winner's file. <c>File.Move(…, overwrite: false)</c> cannot promise that on
/// Linux: .NET checks that the target is absent, then renames, and a rename replaces whatever appeared in between
/// (two nodes starting at once each kept their own key-encryption key). A hard link is created atomically or fails
/// with <c>EEXIST</c>.
/// </summary>
internal static class NoReplaceFile
{
    private const int AlreadyExists = 17; // EEXIST on Linux and macOS

    /// <summary>True when <paramref name="source"/> now sits at <paramref name="target"/>; false when another file was there first.</summary>
    public static bool TryPlace(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            // MoveFileEx without MOVEFILE_REPLACE_EXISTING is atomic and fails when the target exists.
            try
            {
                File.Move(source, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }

        if (Link(NulTerminated(source), NulTerminated(target)) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        if (error == AlreadyExists)
        {
            return false;
        }

        throw new IOException($"Cannot place the file (link: {new Win32Exception(error).Message}); its folder must be on a file system with hard links.");
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link(byte[] existing, byte[] created);

    private static byte[] NulTerminated(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");
}
