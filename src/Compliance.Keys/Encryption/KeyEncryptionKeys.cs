using Compliance.Data.Storage;
using Compliance.Keys.AzureKeyVault;
using Compliance.Keys.Pkcs11;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.Encryption;

/// <summary>
/// The key-encryption keys a node holds: the current one, which wraps and unwraps, and during a KEK rotation the
/// previous one, which only unwraps what it wrapped until <c>compliance keys rotate-kek</c> has re-wrapped it under
/// the current one. Everything in the service that wraps or unwraps goes through this one object.
/// </summary>
internal sealed class KeyEncryptionKeys(IKeyEncryptionKey current, IKeyEncryptionKey? previous) : IKeyEncryptionKey, IDisposable
{
    public IKeyEncryptionKey Current { get; } = current;

    public IKeyEncryptionKey? Previous { get; } = previous;

    public string KeyId => Current.KeyId;

    public string Custody => Current.Custody;

    /// <summary>Builds the configured keys. Nothing is read or reached until first use (or <see cref="EnsureReadyAsync"/>).</summary>
    public static KeyEncryptionKeys Create(KeysOptions options, StorageOptions storage, ILoggerFactory loggers) =>
        new(Create(options, "Keys", storage, loggers), options.Previous is { } previous ? Create(previous, "Keys:Previous", storage, loggers) : null);

    public bool CanUnwrap(string keyId) => Current.CanUnwrap(keyId) || Previous?.CanUnwrap(keyId) == true;

    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        await Current.EnsureReadyAsync(cancellationToken);
        if (Previous is not null)
        {
            await Previous.EnsureReadyAsync(cancellationToken);
        }
    }

    public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) =>
        Current.WrapAsync(dataKey, cancellationToken);

    public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wrapped);

        // The current key answers for anything the previous one does not recognise, with its own refusal.
        return Previous is not null && !Current.CanUnwrap(wrapped.KeyId) && Previous.CanUnwrap(wrapped.KeyId)
            ? Previous.UnwrapAsync(wrapped, cancellationToken)
            : Current.UnwrapAsync(wrapped, cancellationToken);
    }

    public void Dispose()
    {
        (Current as IDisposable)?.Dispose();
        (Previous as IDisposable)?.Dispose();
    }

    private static IKeyEncryptionKey Create(KekSettings settings, string section, StorageOptions storage, ILoggerFactory loggers) =>
        settings.Kek switch
        {
            KekSettings.Local => new LocalFileKeyEncryptionKey(
                LocalFileKeyEncryptionKey.ResolvePath(settings.LocalKekPath, storage), $"{section}:LocalKekPath", loggers.CreateLogger<LocalFileKeyEncryptionKey>()),
            KekSettings.Pkcs11Token => new Pkcs11KeyEncryptionKey(settings.Pkcs11, loggers.CreateLogger<Pkcs11KeyEncryptionKey>(), $"{section}:Pkcs11"),
            KekSettings.AzureKeyVaultKey => new AzureKeyVaultKeyEncryptionKey(
                settings.AzureKeyVault, AzureKeyVaultKeyEncryptionKey.CreateCredential(settings.AzureKeyVault), loggers.CreateLogger<AzureKeyVaultKeyEncryptionKey>()),
            _ => throw new KeyCustodyException($"{section}:Kek: '{settings.Kek}' is not a key custody."),
        };
}
