using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Encryption;

/// <summary>
/// The embedded default KEK: a 256-bit AES key in a local file, created on first use owner-only. Wrapping is
/// AES-256-GCM with a random 96-bit nonce, authenticated together with the KEK id and the algorithm.
/// Wrapped bytes: <c>nonce (12) ‖ ciphertext ‖ tag (16)</c>.
/// </summary>
/// <param name="filePath">The key file (see <see cref="ResolvePath"/>).</param>
/// <param name="setting">The setting that names the file, for messages: <c>Keys:LocalKekPath</c> or <c>Keys:Previous:LocalKekPath</c>.</param>
/// <param name="logger">Logs the key's id and path when it is created or loaded, never the key.</param>
internal sealed class LocalFileKeyEncryptionKey(string filePath, string setting, ILogger<LocalFileKeyEncryptionKey> logger) : IKeyEncryptionKey
{
    public const string CustodyName = "local-file";

    public const string Algorithm = "A256GCM";
    public const string FileDefaultName = "kek.key";
    public const int MaxDataKeyBytes = WrappedKeyChecks.MaxDataKeyBytes;

    private const string FileHeader = "compliance-local-kek v1";
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;


    private readonly Lock _gate = new();
    private Loaded? _loaded;

    /// <summary>The embedded default: the current key-encryption key of <c>Keys:LocalKekPath</c> and the data folder.</summary>
    public LocalFileKeyEncryptionKey(IOptions<KeysOptions> keysOptions, IOptions<StorageOptions> storageOptions, ILogger<LocalFileKeyEncryptionKey> logger)
        : this(ResolvePath(keysOptions.Value.LocalKekPath, storageOptions.Value), "Keys:LocalKekPath", logger)
    {
    }

    /// <summary>The key file.</summary>
    public string FilePath { get; } = filePath;

    /// <summary>The setting that names the file.</summary>
    public string Setting => setting;

    public string KeyId => Load().KeyId;

    public string Custody => CustodyName;

    /// <summary><c>kek.key</c> in the data folder by default; a relative path is resolved against that folder.</summary>
    public static string ResolvePath(string? configured, StorageOptions storage) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? FileDefaultName : configured, storage.ResolveDataDirectory());

    /// <summary>Whether the key file exists (it may still be unreadable or malformed).</summary>
    public bool FileExists => File.Exists(FilePath);

    /// <summary>Creates the key file on purpose and returns the new key's id; refuses when the file exists.</summary>
    public string Create()
    {
        lock (_gate)
        {
            var path = FilePath;
            var key = _loaded is null && !File.Exists(path) ? TryCreate(path) : null;
            if (key is null)
            {
                throw new KeyCustodyException(
                    $"{setting}: a key-encryption key already exists at '{path}'; it is never replaced, since the keys in the store depend on it.");
            }

            Volatile.Write(ref _loaded, new Loaded(key));
            KeysLog.LocalKekCreated(logger, _loaded.KeyId, path);
            return _loaded.KeyId;
        }
    }

    public Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        // A missing file is the start-up check's business (create it or refuse); a present one must be readable now.
        if (FileExists)
        {
            _ = Load();
        }

        return Task.CompletedTask;
    }

    public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        WrappedKeyChecks.RequireDataKeyLength(dataKey.Length);

        cancellationToken.ThrowIfCancellationRequested();
        var kek = Load();
        var output = new byte[NonceBytes + dataKey.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);

        // AesGcm keeps one native context per instance: an instance per call is cheap and safe across threads.
        using var aes = new AesGcm(kek.Key, TagBytes);
        aes.Encrypt(nonce, dataKey.Span, output.AsSpan(NonceBytes, dataKey.Length), output.AsSpan(NonceBytes + dataKey.Length), kek.AssociatedData);
        return Task.FromResult(new WrappedKey(kek.KeyId, Algorithm, output));
    }

    public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        cancellationToken.ThrowIfCancellationRequested();
        var kek = Load();
        WrappedKeyChecks.RequireWrappedBy(wrapped, string.Equals(wrapped.KeyId, kek.KeyId, StringComparison.Ordinal), $"'{kek.KeyId}' ({FilePath})");
        var length = WrappedKeyChecks.RequireShape(wrapped, Algorithm, NonceBytes + TagBytes);
        var ciphertext = wrapped.Ciphertext!;
        var plaintext = new byte[length];
        try
        {
            using var aes = new AesGcm(kek.Key, TagBytes);
            aes.Decrypt(ciphertext.AsSpan(0, NonceBytes), ciphertext.AsSpan(NonceBytes, length), ciphertext.AsSpan(NonceBytes + length), plaintext, kek.AssociatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            // No inner exception and no bytes: the only fact worth telling is that authentication failed.
            CryptographicOperations.ZeroMemory(plaintext);
            throw new KeyCustodyException($"The wrapped key failed authentication under key-encryption key '{kek.KeyId}': it was altered.");
        }

        return Task.FromResult(plaintext);
    }

    private Loaded Load()
    {
        if (Volatile.Read(ref _loaded) is { } loaded)
        {
            return loaded;
        }

        lock (_gate)
        {
            if (_loaded is null)
            {
                var path = FilePath;
                var created = File.Exists(path) ? null : TryCreate(path);
                Volatile.Write(ref _loaded, new Loaded(created ?? Read(path)));
                if (created is null)
                {
                    KeysLog.LocalKekLoaded(logger, _loaded.KeyId, path);
                }
                else
                {
                    KeysLog.LocalKekCreated(logger, _loaded.KeyId, path);
                }
            }

            return _loaded;
        }
    }

    /// <summary>
    /// Writes a new key to a private temporary file and links it into place without overwriting, so that two
    /// processes starting at once end up with the same key: the loser gets null and reads the winner's file.
    /// </summary>
    private byte[]? TryCreate(string path) => TryPlace(path, RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>
    /// Restores a key from its escrow: writes it at <see cref="FilePath"/> (owner-only, never over an existing file)
    /// and returns its id. Clears nothing of <paramref name="key"/>: the caller owns it.
    /// </summary>
    public string Restore(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes)
        {
            throw new KeyCustodyException("The escrowed key-encryption key is not a 256-bit key.");
        }

        lock (_gate)
        {
            var placed = _loaded is null && !File.Exists(FilePath) ? TryPlace(FilePath, key.ToArray()) : null;
            if (placed is null)
            {
                throw new KeyCustodyException($"{setting}: a file already exists at '{FilePath}'; a restore never replaces one.");
            }

            Volatile.Write(ref _loaded, new Loaded(placed));
            return _loaded.KeyId;
        }
    }

    /// <summary>The key itself, for its escrow only. The caller clears the copy.</summary>
    public byte[] ExportForEscrow() => Load().Key.ToArray();

    private byte[]? TryPlace(string path, byte[] key)
    {
        var directory = Path.GetDirectoryName(path) ?? throw new KeyCustodyException($"{setting}: '{path}' has no folder.");
        var temporary = Path.Combine(directory, $".kek-{Guid.NewGuid():N}.tmp");
        try
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            var content = Encoding.ASCII.GetBytes($"{FileHeader}\n{Convert.ToBase64String(key)}\n");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(temporary, options))
                {
                    stream.Write(content);
                    stream.Flush(flushToDisk: true);
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(content);
            }

            if (!NoReplaceFile.TryPlace(temporary, path))
            {
                CryptographicOperations.ZeroMemory(key);
                return null;
            }

            return key;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new KeyCustodyException($"{setting}: cannot create the key-encryption key file '{path}' ({e.GetType().Name}).", e);
        }
        finally
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // Nothing secret is lost if a stray temporary file survives a failed start: it is owner-only.
            }
        }
    }

    private byte[] Read(string path)
    {
        byte[] content;
        try
        {
            if (OwnerOnlyFile.ModeProblem(path) is { } problem)
            {
                throw new KeyCustodyException($"{setting}: the key-encryption key file '{path}' {problem}");
            }

            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new KeyCustodyException($"{setting}: cannot read the key-encryption key file '{path}' ({e.GetType().Name}).", e);
        }

        try
        {
            // Parsed by hand so that no exception message can ever quote the file's content.
            var text = Encoding.ASCII.GetString(content);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var key = new byte[KeyBytes];
            if (lines.Length != 2 || !string.Equals(lines[0].TrimEnd('\r'), FileHeader, StringComparison.Ordinal)
                || !Convert.TryFromBase64String(lines[1].TrimEnd('\r'), key, out var written) || written != KeyBytes)
            {
                CryptographicOperations.ZeroMemory(key);
                throw new KeyCustodyException(
                    $"{setting}: '{path}' is not a key-encryption key file of this service (expected '{FileHeader}' and a 256-bit key). "
                    + "Restore it from its backup; it is never replaced automatically, since the keys in the store depend on it.");
            }

            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }


    private sealed class Loaded
    {
        public Loaded(byte[] key)
        {
            Key = key;

            // A fingerprint under a fixed label: stable for the file, and it tells nothing about a 256-bit random key.
            Span<byte> digest = stackalloc byte[32];
            HMACSHA256.HashData(key, "compliance-local-kek-id"u8, digest);
            KeyId = "local:" + Convert.ToHexStringLower(digest[..12]);
            AssociatedData = Encoding.ASCII.GetBytes($"compliance-kek|{KeyId}|{Algorithm}");
        }

        public byte[] Key { get; }

        public string KeyId { get; }

        public byte[] AssociatedData { get; }
    }
}
