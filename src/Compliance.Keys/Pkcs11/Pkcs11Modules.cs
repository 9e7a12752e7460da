using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Compliance.Keys.Pkcs11;

/// <summary>
/// The PKCS#11 modules loaded by this process, one per path. A module is initialised once (<c>C_Initialize</c>) and
/// never finalised: <c>C_Finalize</c> would end every session of every user of the module in the process.
/// </summary>
internal static class Pkcs11Modules
{
    public static readonly Pkcs11InteropFactories Factories = new();

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, IPkcs11Library> Loaded = new(StringComparer.Ordinal);
    private static bool _resolverSet;

    /// <summary>The module at <paramref name="path"/>, loaded and initialised for multi-threaded use on first call.</summary>
    public static IPkcs11Library Get(string path, string setting)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(path, out var library))
            {
                return library;
            }

            if (!File.Exists(path))
            {
                throw new KeyCustodyException($"{setting}: the PKCS#11 module '{path}' does not exist.");
            }

            SetResolver();
            try
            {
                library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);
            }
            catch (Pkcs11Exception e)
            {
                throw new KeyCustodyException($"{setting}: the PKCS#11 module '{path}' failed to initialise ({e.RV}).", e);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException
                or UnmanagedException or IOException or UnauthorizedAccessException)
            {
                throw new KeyCustodyException($"{setting}: the PKCS#11 module '{path}' cannot be loaded ({e.GetType().Name}).", e);
            }

            Loaded.Add(path, library);
            return library;
        }
    }

    /// <summary>
    /// Pkcs11Interop 5.3 loads modules through <c>libdl</c>, a name that only exists as <c>libdl.so.2</c> on current
    /// glibc systems (Debian 12): map it once. Another part of the process may have set a resolver first; keep it.
    /// </summary>
    private static void SetResolver()
    {
        if (_resolverSet || OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, ResolveLibdl);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already registered for Pkcs11Interop (a test fixture loading the same module does so).
        }

        _resolverSet = true;
    }

    private static IntPtr ResolveLibdl(string name, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath) =>
        string.Equals(name, "libdl", StringComparison.Ordinal) && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero;
}
