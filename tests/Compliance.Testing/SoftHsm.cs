using System.Diagnostics;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Compliance.Testing;

/// <summary>
/// A real PKCS#11 token for tests: Debian's SoftHSM2, with its tokens in a private temporary folder for this test
/// process. Without <c>softhsm2</c> installed the tests fail (<c>./test.sh</c> installs it); they are never skipped.
/// Give each test class its own token label so that classes can run in parallel.
/// </summary>
/// <remarks>
/// SoftHSM 2.6 reads its token folder once, at <c>C_Initialize</c>: a token that <c>softhsm2-util --init-token</c>
/// creates after the module is loaded stays invisible to this process (measured). So <see cref="InitToken"/> initialises
/// tokens through the module itself (<c>C_InitToken</c>, <c>C_InitPIN</c>), as <c>softhsm2-util</c> does.
/// </remarks>
public sealed partial class SoftHsm
{
    /// <summary>Where Debian's <c>softhsm2</c> package installs the module.</summary>
    public const string ModulePath = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>The security officer PIN of every test token.</summary>
    public const string SoPin = "so-pin-0000";

    private static readonly Lazy<SoftHsm> Shared = new(() => new SoftHsm(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Lock _gate = new();
    private readonly Pkcs11InteropFactories _factories = new();
    private readonly IPkcs11Library _library;

    private SoftHsm()
    {
        if (!File.Exists(ModulePath))
        {
            throw new InvalidOperationException($"SoftHSM2 is not installed ({ModulePath} is missing): apt-get install -y softhsm2, or run ./test.sh.");
        }

        Directory = System.IO.Directory.CreateTempSubdirectory("compliance-softhsm-").FullName;
        var tokens = Path.Combine(Directory, "tokens");
        System.IO.Directory.CreateDirectory(tokens);
        ConfigPath = Path.Combine(Directory, "softhsm2.conf");
        File.WriteAllText(ConfigPath, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");

        // The module reads SOFTHSM2_CONF with getenv: .NET's Environment.SetEnvironmentVariable reaches child
        // processes (softhsm2-util) but not the C runtime of this process, so set both, before the first load.
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", ConfigPath);
        if (SetEnv("SOFTHSM2_CONF", ConfigPath, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed.");
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
                name == "libdl" && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // The code under test registered the same mapping first.
        }

        // Never disposed: C_Finalize would end the sessions of the code under test, which shares the module.
        _library = _factories.Pkcs11LibraryFactory.LoadPkcs11Library(_factories, ModulePath, AppType.MultiThreaded);
        Run("--version");
    }

    /// <summary>The SoftHSM2 of this test process, configured on first use (before the module is first loaded).</summary>
    public static SoftHsm Instance => Shared.Value;

    /// <summary>The temporary folder that holds the configuration and the tokens.</summary>
    public string Directory { get; }

    /// <summary>The SoftHSM2 configuration file that <c>SOFTHSM2_CONF</c> points at.</summary>
    public string ConfigPath { get; }

    /// <summary>Initialises a new token with <paramref name="label"/> and user PIN <paramref name="pin"/>.</summary>
    public void InitToken(string label, string pin)
    {
        lock (_gate)
        {
            if (FindSlot(label) is not null)
            {
                throw new InvalidOperationException($"A SoftHSM2 token labelled '{label}' exists already; use one label per test class.");
            }

            var free = _library.GetSlotList(SlotsType.WithTokenPresent).First(s => TokenInfo(s) is { TokenFlags.TokenInitialized: false });
            free.InitToken(SoPin, label);
            var slot = FindSlot(label) ?? throw new InvalidOperationException($"SoftHSM2 did not show the new token '{label}'.");
            using var session = slot.OpenSession(SessionType.ReadWrite);
            session.Login(CKU.CKU_SO, SoPin);
            session.InitPin(pin);
            session.Logout();
        }
    }

    /// <summary>Deletes the token's files as an operator would, with <c>softhsm2-util --delete-token</c>.</summary>
    public void DeleteToken(string label)
    {
        lock (_gate)
        {
            Run($"--delete-token --token {label}");
        }
    }

    /// <summary>Closes every session of this process on the token (<c>C_CloseAllSessions</c>), which also logs it out.</summary>
    public void CloseAllSessions(string label) => (FindSlot(label) ?? throw new InvalidOperationException($"No token '{label}'.")).CloseAllSessions();

    /// <summary>
    /// Generates an AES-256 token key with the given protection, for hostile set-ups (an extractable key, a readable
    /// key, two keys under one label) that the code under test refuses to create.
    /// </summary>
    public void CreateAesKey(string tokenLabel, string pin, string keyLabel, bool sensitive = true, bool extractable = false, byte[]? id = null)
    {
        WithSession(tokenLabel, pin, session =>
        {
            var a = _factories.ObjectAttributeFactory;
            using var mechanism = _factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            session.GenerateKey(mechanism,
            [
                a.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), a.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES), a.Create(CKA.CKA_VALUE_LEN, 32UL),
                a.Create(CKA.CKA_TOKEN, true), a.Create(CKA.CKA_PRIVATE, true), a.Create(CKA.CKA_SENSITIVE, sensitive),
                a.Create(CKA.CKA_EXTRACTABLE, extractable), a.Create(CKA.CKA_ENCRYPT, true), a.Create(CKA.CKA_DECRYPT, true),
                a.Create(CKA.CKA_LABEL, keyLabel), a.Create(CKA.CKA_ID, id ?? Guid.NewGuid().ToByteArray()),
            ]);
            return 0;
        });
    }

    /// <summary>Reads attributes of every secret key labelled <paramref name="keyLabel"/> on the token.</summary>
    public List<List<IObjectAttribute>> ReadKeyAttributes(string tokenLabel, string pin, string keyLabel, params CKA[] attributes) =>
        WithSession(tokenLabel, pin, session =>
        {
            var a = _factories.ObjectAttributeFactory;
            var keys = session.FindAllObjects([a.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), a.Create(CKA.CKA_LABEL, keyLabel)]);
            return keys.Select(k => session.GetAttributeValue(k, [.. attributes])).ToList();
        });

    /// <summary>Tries to change attributes of the key labelled <paramref name="keyLabel"/>; returns the module's answer.</summary>
    public CKR TrySetKeyAttribute(string tokenLabel, string pin, string keyLabel, CKA attribute, bool value) =>
        WithSession(tokenLabel, pin, session =>
        {
            var a = _factories.ObjectAttributeFactory;
            var key = session.FindAllObjects([a.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), a.Create(CKA.CKA_LABEL, keyLabel)]).Single();
            try
            {
                session.SetAttributeValue(key, [a.Create(attribute, value)]);
                return CKR.CKR_OK;
            }
            catch (Pkcs11Exception e)
            {
                return e.RV;
            }
        });

    private T WithSession<T>(string tokenLabel, string pin, Func<ISession, T> action)
    {
        lock (_gate)
        {
            var slot = FindSlot(tokenLabel) ?? throw new InvalidOperationException($"No SoftHSM2 token '{tokenLabel}'.");
            using var session = slot.OpenSession(SessionType.ReadWrite);
            try
            {
                session.Login(CKU.CKU_USER, pin);
            }
            catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
            {
                // The code under test holds a session logged in on this token.
            }

            return action(session);
        }
    }

    private ISlot? FindSlot(string label) =>
        _library.GetSlotList(SlotsType.WithTokenPresent).FirstOrDefault(s => TokenInfo(s) is { TokenFlags.TokenInitialized: true } token && token.Label == label);

    private static ITokenInfo? TokenInfo(ISlot slot)
    {
        try
        {
            return slot.GetTokenInfo();
        }
        catch (Pkcs11Exception)
        {
            // A deleted token: SoftHSM2 keeps its slot and answers CKR_GENERAL_ERROR.
            return null;
        }
    }

    private static void Run(string arguments)
    {
        ProcessStartInfo start;
        try
        {
            start = new ProcessStartInfo("softhsm2-util", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("softhsm2-util did not start.");
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"softhsm2-util {arguments} failed ({process.ExitCode}): {output.Trim()}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("softhsm2-util is not installed: apt-get install -y softhsm2, or run ./test.sh.", e);
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
