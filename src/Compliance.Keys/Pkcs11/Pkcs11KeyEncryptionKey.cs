using Compliance.Keys.Encryption;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Compliance.Keys.Pkcs11;

/// <summary>
/// A key-encryption key held by a PKCS#11 token (an HSM, or SoftHSM2): an AES-256 secret key that is sensitive and
/// not extractable, found by its label. Wrapping is <c>CKM_AES_GCM</c> encryption on the token with a random 96-bit IV,
/// a 128-bit tag, and the KEK id and algorithm as associated data. Wrapped bytes: <c>iv (12) ‖ ciphertext ‖ tag (16)</c>.
/// </summary>
/// <remarks>
/// The module is loaded once per process; this instance logs in once and keeps a pool of read-only sessions created
/// on demand, so concurrent wraps do not queue on one session. When the token goes away (removed, reset, logged out)
/// the failing call says so and the pool is dropped: the next call opens the token again.
/// </remarks>
internal sealed class Pkcs11KeyEncryptionKey : IKeyEncryptionKey, IDisposable
{
    /// <summary>The wrapping algorithm written in <see cref="WrappedKey.Algorithm"/>.</summary>
    public const string Algorithm = "PKCS11-A256GCM";

    /// <summary>The custody kind, for configuration (<c>Keys:Kek</c>) and the audit trail.</summary>
    public const string CustodyName = "pkcs11";

    public string Custody => CustodyName;

    /// <summary>The configuration section of <see cref="Pkcs11KekOptions"/>, as messages name it.</summary>
    public const string DefaultSectionPath = "Keys:Pkcs11";

    private readonly string _section;

    public const int MaxDataKeyBytes = WrappedKeyChecks.MaxDataKeyBytes;

    private const int KeyBytes = 32;
    private const int IvBytes = 12;
    private const int TagBytes = 16;
    private const int ObjectIdBytes = 16;
    private const int MaxPinFileBytes = 256;

    // PKCS#11 3.0's CKR_AEAD_DECRYPT_FAILED, which Pkcs11Interop 5.3 does not name.
    private const ulong AeadDecryptFailed = 0x35;


    // Answers meaning that the token, the session or the login is gone, not that the request was wrong.
    private static readonly HashSet<CKR> TokenGone =
    [
        CKR.CKR_DEVICE_REMOVED, CKR.CKR_DEVICE_ERROR, CKR.CKR_TOKEN_NOT_PRESENT, CKR.CKR_TOKEN_NOT_RECOGNIZED,
        CKR.CKR_SESSION_HANDLE_INVALID, CKR.CKR_SESSION_CLOSED, CKR.CKR_USER_NOT_LOGGED_IN,
        CKR.CKR_KEY_HANDLE_INVALID, CKR.CKR_OBJECT_HANDLE_INVALID, CKR.CKR_SLOT_ID_INVALID, CKR.CKR_CRYPTOKI_NOT_INITIALIZED,
    ];

    private static readonly Pkcs11InteropFactories Factories = Pkcs11Modules.Factories;

    private readonly string _modulePath;
    private readonly string? _tokenLabel;
    private readonly ulong? _slotId;
    private readonly string? _pin;
    private readonly string? _pinFile;
    private readonly string _pinSetting;
    private readonly string _keyLabel;
    private readonly int _maxSessions;
    private readonly ILogger<Pkcs11KeyEncryptionKey> _logger;
    private readonly Lock _gate = new();
    private SessionPool? _pool;
    private string? _keyId;
    private bool _disposed;

    public Pkcs11KeyEncryptionKey(Pkcs11KekOptions options, ILogger<Pkcs11KeyEncryptionKey> logger, string section = DefaultSectionPath)
    {
        _section = section;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Problems(_section).ToList();
        if (problems.Count > 0)
        {
            throw new KeyCustodyException(string.Join(" ", problems));
        }

        // Copied: a later change to the bound options must not turn this instance into another key.
        _modulePath = options.ModulePath!;
        _tokenLabel = string.IsNullOrEmpty(options.TokenLabel) ? null : options.TokenLabel;
        _slotId = options.Slot;
        _pin = string.IsNullOrEmpty(options.Pin) ? null : options.Pin;
        _pinFile = _pin is null ? Path.GetFullPath(options.PinFile!) : null;
        _pinSetting = options.PinSetting(_section);
        _keyLabel = options.KeyLabel!;
        _maxSessions = Math.Clamp(Environment.ProcessorCount * 2, 2, 64);
        _logger = logger;
        Description = string.Create(
            CultureInfo.InvariantCulture,
            $"PKCS#11 module {_modulePath}, token {(_tokenLabel is null ? $"in slot {_slotId}" : $"'{_tokenLabel}'")}, key '{_keyLabel}'");
    }

    /// <summary>Where the key is, for the audit trail: module path, token and key label. Nothing secret.</summary>
    public string Description { get; }

    /// <summary>
    /// <c>pkcs11:token=…;object=…;id=…</c> (RFC 7512, every byte of <c>CKA_ID</c> percent-encoded). Opens the token on
    /// first use; afterwards it is the id of the key this instance opened first, even while the token is away.
    /// </summary>
    public string KeyId => Volatile.Read(ref _keyId) ?? Pool().KeyId;

    /// <summary>
    /// Loads the module, finds the token, logs in, finds and checks the key, then wraps and unwraps a random key once.
    /// Throws a one-line <see cref="KeyCustodyException"/> naming the setting or fact at fault.
    /// </summary>
    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _ = Pool();

        // A round trip proves that the token offers CKM_AES_GCM with associated data for this key, not just that it exists.
        var probe = RandomNumberGenerator.GetBytes(KeyBytes);
        var back = await UnwrapAsync(await WrapAsync(probe, cancellationToken), cancellationToken);
        var same = CryptographicOperations.FixedTimeEquals(probe, back);
        CryptographicOperations.ZeroMemory(probe);
        CryptographicOperations.ZeroMemory(back);
        if (!same)
        {
            throw new KeyCustodyException($"The PKCS#11 key-encryption key '{KeyId}' did not give back what it wrapped ({Description}).");
        }
    }

    /// <summary>
    /// Generates the key-encryption key on the token on purpose (<c>CKM_AES_KEY_GEN</c>, 256 bits, sensitive, never
    /// extractable, encrypt and decrypt only, not modifiable) and returns its id. Refuses when an object with the key
    /// label exists already: a key-encryption key is never replaced, since the keys in the store depend on it.
    /// </summary>
    public Task<string> CreateKeyAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var library = Pkcs11Modules.Get(_modulePath, $"{_section}:ModulePath");
            var (slot, token) = FindSlot(library, reopening: false);
            ISession? session = null;
            try
            {
                session = slot.OpenSession(SessionType.ReadWrite);
                Login(session, token);
                if (FindAll(session, [Attribute(CKA.CKA_LABEL, _keyLabel)]).Count > 0)
                {
                    throw new KeyCustodyException(
                        $"{_section}:KeyLabel: token '{Printable(token.Label)}' already holds an object labelled '{_keyLabel}'; "
                        + "a key-encryption key is never replaced, since the keys in the store depend on it.");
                }

                var objectId = RandomNumberGenerator.GetBytes(ObjectIdBytes);
                var template = new List<IObjectAttribute>
                {
                    Attribute(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                    Attribute(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                    Attribute(CKA.CKA_VALUE_LEN, (ulong)KeyBytes),
                    Attribute(CKA.CKA_TOKEN, true),
                    Attribute(CKA.CKA_PRIVATE, true),
                    Attribute(CKA.CKA_SENSITIVE, true),
                    Attribute(CKA.CKA_EXTRACTABLE, false),
                    Attribute(CKA.CKA_ENCRYPT, true),
                    Attribute(CKA.CKA_DECRYPT, true),
                    Attribute(CKA.CKA_WRAP, false),
                    Attribute(CKA.CKA_UNWRAP, false),
                    Attribute(CKA.CKA_SIGN, false),
                    Attribute(CKA.CKA_VERIFY, false),
                    Attribute(CKA.CKA_DERIVE, false),
                    Attribute(CKA.CKA_MODIFIABLE, false),
                    Attribute(CKA.CKA_LABEL, _keyLabel),
                    Attribute(CKA.CKA_ID, objectId),
                };
                IObjectHandle handle;
                using (var mechanism = Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN))
                {
                    handle = session.GenerateKey(mechanism, template);
                }

                DisposeAll(template);

                // PKCS#11 has no create-if-absent: if another process created one at the same moment, keep neither.
                if (FindAll(session, KeyTemplate()).Count != 1)
                {
                    session.DestroyObject(handle);
                    throw new KeyCustodyException(
                        $"{_section}:KeyLabel: another process created a key labelled '{_keyLabel}' on token '{Printable(token.Label)}' at the same time; "
                        + "the new key was destroyed. Check the token, then run the command again.");
                }

                var keyId = KeyIdFor(token.Label, _keyLabel, objectId);
                KeysLog.Pkcs11KekCreated(_logger, keyId, Description);
                return Task.FromResult(keyId);
            }
            catch (Pkcs11Exception e)
            {
                throw new KeyCustodyException($"{Description}: the token refused to create the key-encryption key ({e.RV} from {e.Method}).", e);
            }
            finally
            {
                if (session is not null)
                {
                    CloseSession(session);
                }
            }
        }
    }

    public async Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        WrappedKeyChecks.RequireDataKeyLength(dataKey.Length);

        cancellationToken.ThrowIfCancellationRequested();
        var pool = Pool();
        var session = await RentAsync(pool, cancellationToken);
        var reusable = false;
        var plaintext = dataKey.ToArray();
        try
        {
            var iv = RandomNumberGenerator.GetBytes(IvBytes);
            byte[] encrypted;
            using (var parameters = Factories.MechanismParamsFactory.CreateCkGcmParams(iv, IvBytes * 8, pool.AssociatedData, TagBytes * 8))
            using (var mechanism = Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters))
            {
                encrypted = session.Encrypt(mechanism, pool.Key, plaintext);
            }

            reusable = true;
            if (encrypted.Length != plaintext.Length + TagBytes)
            {
                throw new KeyCustodyException(
                    $"The PKCS#11 token '{pool.TokenLabel}' returned {encrypted.Length} bytes for CKM_AES_GCM over {plaintext.Length}; expected the ciphertext and a {TagBytes}-byte tag.");
            }

            var output = new byte[IvBytes + encrypted.Length];
            iv.CopyTo(output, 0);
            encrypted.CopyTo(output, IvBytes);
            return new WrappedKey(pool.KeyId, Algorithm, output);
        }
        catch (Pkcs11Exception e)
        {
            throw Refused(pool, e, "wrap a data key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            pool.Return(session, reusable);
        }
    }

    public async Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        cancellationToken.ThrowIfCancellationRequested();
        var keyId = KeyId;
        WrappedKeyChecks.RequireWrappedBy(wrapped, string.Equals(wrapped.KeyId, keyId, StringComparison.Ordinal), $"'{keyId}' ({Description})");
        WrappedKeyChecks.RequireShape(wrapped, Algorithm, IvBytes + TagBytes);
        var ciphertext = wrapped.Ciphertext!;

        var pool = Pool();
        var session = await RentAsync(pool, cancellationToken);
        var reusable = false;
        try
        {
            byte[] plaintext;
            using (var parameters = Factories.MechanismParamsFactory.CreateCkGcmParams(ciphertext[..IvBytes], IvBytes * 8, pool.AssociatedData, TagBytes * 8))
            using (var mechanism = Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters))
            {
                plaintext = session.Decrypt(mechanism, pool.Key, ciphertext[IvBytes..]);
            }

            reusable = true;
            if (plaintext.Length != ciphertext.Length - IvBytes - TagBytes)
            {
                CryptographicOperations.ZeroMemory(plaintext);
                throw new KeyCustodyException(
                    $"The PKCS#11 token '{pool.TokenLabel}' returned a plaintext of unexpected length for CKM_AES_GCM under key-encryption key '{keyId}'.");
            }

            return plaintext;
        }
        catch (Pkcs11Exception e) when (IsAuthenticationFailure(pool, e))
        {
            // No inner exception and no bytes: the only fact worth telling is that authentication failed.
            KeysLog.Pkcs11UnwrapFailedAuthentication(_logger, keyId);
            throw new KeyCustodyException($"The wrapped key failed authentication under key-encryption key '{keyId}': it was altered.");
        }
        catch (Pkcs11Exception e)
        {
            throw Refused(pool, e, "unwrap a data key");
        }
        finally
        {
            pool.Return(session, reusable);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            var pool = _pool;
            Volatile.Write(ref _pool, null);
            pool?.Close();
        }
    }

    private SessionPool Pool()
    {
        if (Volatile.Read(ref _pool) is { } pool)
        {
            return pool;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pool is null)
            {
                Volatile.Write(ref _pool, Open());
            }

            return _pool!;
        }
    }

    /// <summary>Loads the module, finds the token, logs in, finds and checks the key. Called under the gate.</summary>
    private SessionPool Open()
    {
        var library = Pkcs11Modules.Get(_modulePath, $"{_section}:ModulePath");
        var reopening = _keyId is not null;
        var (slot, token) = FindSlot(library, reopening);
        ISession? session = null;
        try
        {
            session = slot.OpenSession(SessionType.ReadOnly);
            Login(session, token);
            var (key, objectId, everExposed) = FindKey(session, token);
            var keyId = KeyIdFor(token.Label, _keyLabel, objectId);
            if (_keyId is not null && !string.Equals(keyId, _keyId, StringComparison.Ordinal))
            {
                throw new KeyCustodyException(
                    $"{_section}:KeyLabel: token '{Printable(token.Label)}' now holds another key labelled '{_keyLabel}' ({keyId}) than the key-encryption key "
                    + $"this node opened ({_keyId}); restart the service to use the new key deliberately.");
            }

            var pool = new SessionPool(slot, Printable(token.Label), key, keyId, _maxSessions, session);
            session = null;
            if (!reopening)
            {
                Volatile.Write(ref _keyId, keyId);
                if (everExposed)
                {
                    KeysLog.Pkcs11KekOnceExtractable(_logger, keyId);
                }
            }

            KeysLog.Pkcs11KekOpened(_logger, keyId, Description, _maxSessions);
            return pool;
        }
        catch (Pkcs11Exception e)
        {
            throw TokenGone.Contains(e.RV) || reopening
                ? new KeyCustodyException(NotAvailable(Printable(token.Label), e.RV), e)
                : new KeyCustodyException($"{Description}: the token refused to open ({e.RV} from {e.Method}).", e);
        }
        finally
        {
            if (session is not null)
            {
                CloseSession(session);
            }
        }
    }

    private (ISlot Slot, ITokenInfo Token) FindSlot(IPkcs11Library library, bool reopening)
    {
        try
        {
            if (_slotId is { } slotId)
            {
                var slot = library.GetSlotList(SlotsType.WithOrWithoutTokenPresent).FirstOrDefault(s => s.SlotId == slotId)
                    ?? throw new KeyCustodyException($"{_section}:Slot: the PKCS#11 module '{_modulePath}' has no slot {slotId}.");
                try
                {
                    return (slot, slot.GetTokenInfo());
                }
                catch (Pkcs11Exception e)
                {
                    throw new KeyCustodyException(
                        reopening
                            ? NotAvailable($"in slot {slotId}", e.RV)
                            : $"{_section}:Slot: slot {slotId} of the PKCS#11 module '{_modulePath}' holds no usable token ({e.RV}).",
                        e);
                }
            }

            var matches = new List<(ISlot, ITokenInfo)>();
            var labels = new List<string>();
            foreach (var slot in library.GetSlotList(SlotsType.WithTokenPresent))
            {
                ITokenInfo token;
                try
                {
                    token = slot.GetTokenInfo();
                }
                catch (Pkcs11Exception)
                {
                    // A token that went away (SoftHSM2 then answers CKR_GENERAL_ERROR for its slot) is not the one.
                    continue;
                }

                if (!token.TokenFlags.TokenInitialized)
                {
                    continue;
                }

                labels.Add($"'{Printable(token.Label)}'");
                if (string.Equals(token.Label, _tokenLabel, StringComparison.Ordinal))
                {
                    matches.Add((slot, token));
                }
            }

            return matches.Count switch
            {
                1 => matches[0],
                0 when reopening => throw new KeyCustodyException(NotAvailable(_tokenLabel!, CKR.CKR_TOKEN_NOT_PRESENT)),
                0 => throw new KeyCustodyException(
                    $"{_section}:TokenLabel: no token labelled '{_tokenLabel}' is present on the PKCS#11 module '{_modulePath}' "
                    + $"(tokens present: {(labels.Count == 0 ? "none" : string.Join(", ", labels.Take(10)))})."),
                _ => throw new KeyCustodyException(
                    $"{_section}:TokenLabel: {matches.Count} tokens are labelled '{_tokenLabel}' on the PKCS#11 module '{_modulePath}'; "
                    + $"choose one with {_section}:Slot."),
            };
        }
        catch (Pkcs11Exception e)
        {
            throw new KeyCustodyException($"{_section}:ModulePath: the PKCS#11 module '{_modulePath}' cannot list its slots ({e.RV}).", e);
        }
    }

    private void Login(ISession session, ITokenInfo token)
    {
        var label = Printable(token.Label);
        var flags = token.TokenFlags;
        if (flags.UserPinLocked)
        {
            throw new KeyCustodyException($"{_pinSetting}: the user PIN of token '{label}' is locked (CKF_USER_PIN_LOCKED); its security officer must unlock it.");
        }

        if (flags.UserPinFinalTry)
        {
            // A node restarting in a loop with a wrong PIN would lock the token for every node: never spend the last try.
            throw new KeyCustodyException(
                $"{_pinSetting}: one PIN attempt is left before token '{label}' locks (CKF_USER_PIN_FINAL_TRY); this service does not spend it. "
                + "Check the PIN, then log in once by hand to reset the counter.");
        }

        if (!flags.UserPinInitialized)
        {
            throw new KeyCustodyException($"{_pinSetting}: token '{label}' has no user PIN yet (CKF_USER_PIN_INITIALIZED is not set).");
        }

        var pin = ReadPin();
        try
        {
            session.Login(CKU.CKU_USER, pin);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // A login holds for every session of the process on that token: another session of this module logged in.
        }
        catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE)
        {
            throw new KeyCustodyException($"{_pinSetting}: token '{label}' refused the PIN ({e.RV}); repeated failures lock the token.");
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_PIN_LOCKED)
        {
            throw new KeyCustodyException($"{_pinSetting}: the user PIN of token '{label}' is locked (CKR_PIN_LOCKED); its security officer must unlock it.");
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_PIN_EXPIRED)
        {
            throw new KeyCustodyException($"{_pinSetting}: the user PIN of token '{label}' has expired (CKR_PIN_EXPIRED); change it on the token.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }

    private byte[] ReadPin()
    {
        if (_pin is not null)
        {
            return Encoding.UTF8.GetBytes(_pin);
        }

        var path = _pinFile!;
        byte[] content;
        try
        {
            if (OwnerOnlyFile.ModeProblem(path) is { } problem)
            {
                throw new KeyCustodyException($"{_section}:PinFile: the PIN file '{path}' {problem}");
            }

            if (new FileInfo(path).Length > MaxPinFileBytes)
            {
                throw new KeyCustodyException($"{_section}:PinFile: '{path}' is larger than {MaxPinFileBytes} bytes; it should hold the PIN only.");
            }

            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new KeyCustodyException($"{_section}:PinFile: cannot read the PIN file '{path}' ({e.GetType().Name}).", e);
        }

        var length = content.Length;
        if (length > 0 && content[length - 1] == (byte)'\n')
        {
            length--;
            if (length > 0 && content[length - 1] == (byte)'\r')
            {
                length--;
            }
        }

        var pin = content[..length];
        CryptographicOperations.ZeroMemory(content);
        if (pin.Length == 0)
        {
            throw new KeyCustodyException($"{_section}:PinFile: the PIN file '{path}' is empty.");
        }

        return pin;
    }

    private (IObjectHandle Key, byte[] ObjectId, bool EverExposed) FindKey(ISession session, ITokenInfo token)
    {
        var label = Printable(token.Label);
        var found = FindAll(session, KeyTemplate());
        if (found.Count == 0)
        {
            throw new KeyCustodyException(
                $"{_section}:KeyLabel: token '{label}' holds no secret key labelled '{_keyLabel}'; create it with 'compliance keys init'.");
        }

        if (found.Count > 1)
        {
            throw new KeyCustodyException(
                $"{_section}:KeyLabel: token '{label}' holds {found.Count} secret keys labelled '{_keyLabel}'; "
                + "a key-encryption key must be unambiguous: relabel or remove the others.");
        }

        var key = found[0];
        var attributes = session.GetAttributeValue(key,
        [
            CKA.CKA_KEY_TYPE, CKA.CKA_VALUE_LEN, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_ALWAYS_SENSITIVE,
            CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_ID,
        ]);
        try
        {
            var value = attributes.ToDictionary(a => (CKA)a.Type);
            bool Flag(CKA type) => value.TryGetValue(type, out var a) && !a.CannotBeRead && a.GetValueAsBool();
            ulong? Number(CKA type) => value.TryGetValue(type, out var a) && !a.CannotBeRead ? a.GetValueAsUlong() : null;

            if (Number(CKA.CKA_KEY_TYPE) != (ulong)CKK.CKK_AES || Number(CKA.CKA_VALUE_LEN) != KeyBytes)
            {
                throw new KeyCustodyException($"{_section}:KeyLabel: the key labelled '{_keyLabel}' on token '{label}' is not an AES-256 key.");
            }

            if (!Flag(CKA.CKA_SENSITIVE) || Flag(CKA.CKA_EXTRACTABLE))
            {
                throw new KeyCustodyException(
                    $"{_section}:KeyLabel: the key labelled '{_keyLabel}' on token '{label}' is not sensitive and non-extractable "
                    + $"(CKA_SENSITIVE={Flag(CKA.CKA_SENSITIVE)}, CKA_EXTRACTABLE={Flag(CKA.CKA_EXTRACTABLE)}); a key that can leave the token is not in custody. "
                    + "Create a new one with 'compliance keys init'.");
            }

            if (!Flag(CKA.CKA_ENCRYPT) || !Flag(CKA.CKA_DECRYPT))
            {
                throw new KeyCustodyException(
                    $"{_section}:KeyLabel: the key labelled '{_keyLabel}' on token '{label}' does not allow CKA_ENCRYPT and CKA_DECRYPT, which wrapping uses.");
            }

            var objectId = value.TryGetValue(CKA.CKA_ID, out var id) && !id.CannotBeRead ? id.GetValueAsByteArray() ?? [] : [];
            var everExposed = !Flag(CKA.CKA_ALWAYS_SENSITIVE) || !Flag(CKA.CKA_NEVER_EXTRACTABLE);
            return (key, objectId, everExposed);
        }
        finally
        {
            DisposeAll(attributes);
        }
    }

    private List<IObjectAttribute> KeyTemplate() =>
    [
        Attribute(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
        Attribute(CKA.CKA_TOKEN, true),
        Attribute(CKA.CKA_LABEL, _keyLabel),
    ];

    private static List<IObjectHandle> FindAll(ISession session, List<IObjectAttribute> template)
    {
        try
        {
            return session.FindAllObjects(template);
        }
        finally
        {
            DisposeAll(template);
        }
    }

    private async ValueTask<ISession> RentAsync(SessionPool pool, CancellationToken cancellationToken)
    {
        try
        {
            return await pool.RentAsync(cancellationToken);
        }
        catch (Pkcs11Exception e)
        {
            throw new KeyCustodyException(NotAvailable(pool.TokenLabel, e.RV), e);
        }
    }

    /// <summary>The exception for a refused operation; drops the pool when the token, session or login is gone.</summary>
    private KeyCustodyException Refused(SessionPool pool, Pkcs11Exception e, string operation)
    {
        if (TokenGone.Contains(e.RV) || !pool.TokenAnswers())
        {
            Drop(pool);
            KeysLog.Pkcs11TokenUnavailable(_logger, Description, e.RV.ToString(), e);
            return new KeyCustodyException(NotAvailable(pool.TokenLabel, e.RV), e);
        }

        return new KeyCustodyException(
            $"The PKCS#11 token '{pool.TokenLabel}' refused to {operation} ({e.RV} from {e.Method}) under key-encryption key '{pool.KeyId}'.", e);
    }

    /// <summary>
    /// Whether a failed <c>C_Decrypt</c> means the tag did not verify. SoftHSM 2.6 answers CKR_GENERAL_ERROR for a
    /// tag mismatch (measured), so that answer counts only while the token still answers for itself.
    /// </summary>
    private static bool IsAuthenticationFailure(SessionPool pool, Pkcs11Exception e) =>
        string.Equals(e.Method, "C_Decrypt", StringComparison.Ordinal)
        && (e.RV is CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE
            || (ulong)e.RV == AeadDecryptFailed
            || (e.RV == CKR.CKR_GENERAL_ERROR && pool.TokenAnswers()));

    private void Drop(SessionPool pool)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_pool, pool))
            {
                Volatile.Write(ref _pool, null);
            }
        }

        pool.Close();
    }

    private string NotAvailable(string token, CKR returnValue) =>
        $"The PKCS#11 token '{token}' of module '{_modulePath}' is not available ({returnValue}): it was removed, reset or logged out. "
        + "Key custody resumes once it is back; the next operation opens it again.";

    internal static string KeyIdFor(string tokenLabel, string keyLabel, byte[] objectId)
    {
        var builder = new StringBuilder("pkcs11:token=");
        PercentEncode(builder, Encoding.UTF8.GetBytes(tokenLabel), keepUnreserved: true);
        builder.Append(";object=");
        PercentEncode(builder, Encoding.UTF8.GetBytes(keyLabel), keepUnreserved: true);
        builder.Append(";id=");
        PercentEncode(builder, objectId, keepUnreserved: false);
        return builder.ToString();
    }

    private static void PercentEncode(StringBuilder builder, byte[] bytes, bool keepUnreserved)
    {
        foreach (var b in bytes)
        {
            if (keepUnreserved && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~'))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    private static IObjectAttribute Attribute(CKA type, string value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static IObjectAttribute Attribute(CKA type, bool value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static IObjectAttribute Attribute(CKA type, ulong value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static IObjectAttribute Attribute(CKA type, byte[] value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static IObjectAttribute Attribute(CKA type, CKO value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static IObjectAttribute Attribute(CKA type, CKK value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static void DisposeAll(List<IObjectAttribute> attributes) => attributes.ForEach(a => a.Dispose());

    private static void CloseSession(ISession session)
    {
        try
        {
            session.Dispose();
        }
        catch (Pkcs11Exception)
        {
            // The session of a token that went away may already be closed: nothing is left to release.
        }
    }

    private static string Printable(string? value) => WrappedKeyChecks.Printable(value);

    /// <summary>The sessions of one opening of the token; dropped whole when the token goes away.</summary>
    [SuppressMessage("Reliability", "CA1001", Justification = "The semaphore never creates its wait handle; disposing it would fail renters still waiting on a dropped pool.")]
    private sealed class SessionPool
    {
        private readonly ISlot _slot;
        private readonly ISession _anchor;
        private readonly ConcurrentStack<ISession> _idle = new();
        private readonly SemaphoreSlim _capacity;
        private volatile bool _closed;

        public SessionPool(ISlot slot, string tokenLabel, IObjectHandle key, string keyId, int maxSessions, ISession first)
        {
            _slot = slot;
            TokenLabel = tokenLabel;
            Key = key;
            KeyId = keyId;
            AssociatedData = Encoding.ASCII.GetBytes($"compliance-kek|{keyId}|{Algorithm}");
            _capacity = new SemaphoreSlim(maxSessions, maxSessions);

            // The session that logged in is never rented, so never closed after a failed call: when the last session
            // of the process on a token closes, PKCS#11 logs out and SoftHSM2 invalidates every object handle (measured).
            _anchor = first;
        }

        public string TokenLabel { get; }

        public IObjectHandle Key { get; }

        public string KeyId { get; }

        public byte[] AssociatedData { get; }

        public async ValueTask<ISession> RentAsync(CancellationToken cancellationToken)
        {
            await _capacity.WaitAsync(cancellationToken);
            if (_closed)
            {
                _capacity.Release();
                throw new Pkcs11Exception("C_OpenSession", CKR.CKR_SESSION_CLOSED);
            }

            if (_idle.TryPop(out var session))
            {
                return session;
            }

            try
            {
                return _slot.OpenSession(SessionType.ReadOnly);
            }
            catch
            {
                _capacity.Release();
                throw;
            }
        }

        public void Return(ISession session, bool reusable)
        {
            if (reusable && !_closed)
            {
                _idle.Push(session);
                if (_closed)
                {
                    // Close ran between the check and the push: do its work for this session too.
                    Drain();
                }
            }
            else
            {
                CloseSession(session);
            }

            _capacity.Release();
        }

        /// <summary>Whether the token still answers for itself (a removed SoftHSM2 token answers CKR_GENERAL_ERROR).</summary>
        public bool TokenAnswers()
        {
            try
            {
                return _slot.GetTokenInfo().TokenFlags.TokenInitialized;
            }
            catch (Pkcs11Exception)
            {
                return false;
            }
        }

        public void Close()
        {
            _closed = true;
            Drain();
            CloseSession(_anchor);
        }

        private void Drain()
        {
            while (_idle.TryPop(out var session))
            {
                CloseSession(session);
            }
        }
    }
}
