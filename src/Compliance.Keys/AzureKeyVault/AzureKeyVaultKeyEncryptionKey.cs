using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Compliance.Keys.Encryption;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.AzureKeyVault;

/// <summary>
/// A KEK held in Azure Key Vault (or a managed HSM): an RSA key that never leaves the vault. RSA-OAEP-256 takes about
/// 190 bytes with a 2048-bit key, and data keys go up to 16 KiB, so wrapping is hybrid: each call draws a fresh
/// AES-256 content key, the vault wraps it (<c>wrapkey</c>, RSA-OAEP-256), and the data key is encrypted here with
/// AES-256-GCM under it, a random 96-bit nonce, and the versioned key id and algorithm as associated data.
/// Wrapped bytes: <c>u16 (big-endian) length of the wrapped content key ‖ wrapped content key ‖ nonce (12) ‖
/// ciphertext ‖ tag (16)</c>. <see cref="KeyId"/> is the versioned kid; any version of the same key unwraps, so
/// rotating the key in Key Vault (a new version) needs no re-wrapping.
/// </summary>
internal sealed class AzureKeyVaultKeyEncryptionKey : IKeyEncryptionKey, IKekWithRegion, IDisposable
{
    /// <summary>The custody kind, as the audit trail records it.</summary>
    public const string CustodyName = "azure-key-vault";

    public string Custody => CustodyName;

    /// <summary>The wrapping algorithm written in <see cref="WrappedKey.Algorithm"/>.</summary>
    public const string Algorithm = "RSA-OAEP-256+A256GCM";

    /// <summary>The Key Vault REST API version this client speaks.</summary>
    public const string ApiVersion = "7.5";

    /// <summary>The configuration section the options come from, as named in messages.</summary>
    public const string SectionPath = "Keys:AzureKeyVault";

    public const int MaxDataKeyBytes = WrappedKeyChecks.MaxDataKeyBytes;

    private const string VaultAlgorithm = "RSA-OAEP-256";
    private const int ContentKeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int LengthBytes = 2;
    private const int MaxResponseBytes = 64 * 1024;

    // RSA 2048, 3072 and 4096: the key sizes Key Vault offers, and the only wrapped lengths that can be genuine.
    private static readonly int[] WrappedContentKeyLengths = [256, 384, 512];

    private readonly AzureKeyVaultKekOptions _options;
    private readonly KeyVaultKeyUrl _configured;
    private readonly ILogger<AzureKeyVaultKeyEncryptionKey> _logger;
    private readonly KeyVaultChallengePolicy _challenge;
    private readonly HttpPipelineTransport? _ownedTransport;
    private readonly HttpPipeline _pipeline;
    private volatile KeyVaultKeyUrl? _current;

    /// <summary>Checks the options (throwing <see cref="KeyCustodyException"/> with every problem) and builds the HTTP pipeline; no call is made yet.</summary>
    public AzureKeyVaultKeyEncryptionKey(
        AzureKeyVaultKekOptions options,
        TokenCredential credential,
        ILogger<AzureKeyVaultKeyEncryptionKey> logger,
        HttpPipelineTransport? transport = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Problems(SectionPath).ToList();
        if (problems.Count > 0)
        {
            throw new KeyCustodyException(string.Join(" ", problems));
        }

        KeyVaultKeyUrl.TryParse(options.KeyId, options.AllowLoopbackHttp, out var configured, out _);
        _options = options;
        _configured = configured!;
        _logger = logger;
        _current = _configured.Version is null ? null : _configured;

        // Redirects stay off (a bearer token must never follow one); Azure.Core redacts the Authorization header in its own logs.
        _ownedTransport = transport is null ? new HttpClientTransport(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = true,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        }) : null;
        var clientOptions = new PipelineOptions { Transport = transport ?? _ownedTransport! };
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.Delay = TimeSpan.FromSeconds(0.8);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;
        _challenge = new KeyVaultChallengePolicy(credential, timeProvider ?? TimeProvider.System, options.AllowLoopbackHttp, logger);
        _pipeline = HttpPipelineBuilder.Build(clientOptions, [], [_challenge], new ResponseClassifier());
    }

    /// <summary>
    /// The versioned key id new data keys are wrapped with: <c>https://{vault}.vault.azure.net/keys/{name}/{version}</c>.
    /// When the configured URL has no version, it is known only after <see cref="EnsureReadyAsync"/>.
    /// </summary>
    public string KeyId => (_current ?? throw new KeyCustodyException(
        $"{SectionPath}:KeyId '{_configured.Key}' names no version, and its current version is not known yet: call EnsureReadyAsync first.")).Kid;

    /// <summary>What holds the key, for the audit trail (not secret): the vault's URL and the key's name.</summary>
    public string Description => $"Azure Key Vault {_configured.OriginText}, key {_configured.Name}";

    /// <summary>The Azure region the vault is declared to be in (<see cref="AzureKeyVaultKekOptions.Region"/>).</summary>
    public string Region => _options.Region!;

    /// <summary>
    /// Builds the credential that <see cref="AzureKeyVaultKekOptions.Credential"/> names. A client secret is read from
    /// its file here, after checking the file is its owner's only; the secret never appears in a message.
    /// </summary>
    public static TokenCredential CreateCredential(AzureKeyVaultKekOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var managedIdentity = Blank(options.ManagedIdentityClientId);
        switch (options.Credential)
        {
            case AzureKeyVaultKekOptions.CredentialDefault:
                return new DefaultAzureCredential(new DefaultAzureCredentialOptions
                {
                    ManagedIdentityClientId = managedIdentity,
                    TenantId = Blank(options.TenantId),
                    ExcludeInteractiveBrowserCredential = true,
                });
            case AzureKeyVaultKekOptions.CredentialManagedIdentity:
                return new ManagedIdentityCredential(managedIdentity is null
                    ? ManagedIdentityId.SystemAssigned
                    : ManagedIdentityId.FromUserAssignedClientId(managedIdentity));
            case AzureKeyVaultKekOptions.CredentialWorkloadIdentity:
                return new WorkloadIdentityCredential(new WorkloadIdentityCredentialOptions
                {
                    TenantId = Blank(options.TenantId),
                    ClientId = Blank(options.ClientId),
                });
            case AzureKeyVaultKekOptions.CredentialClientSecret:
                var path = Blank(options.ClientSecretFile) ?? throw new KeyCustodyException($"{SectionPath}:ClientSecretFile is required with Credential 'client-secret'.");
                if (AzureKeyVaultKekOptions.SecretFileProblem(path) is { } problem)
                {
                    throw new KeyCustodyException($"{SectionPath}:ClientSecretFile {problem}");
                }

                string secret;
                try
                {
                    secret = File.ReadAllText(path).Trim();
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    throw new KeyCustodyException($"{SectionPath}:ClientSecretFile '{path}' cannot be read ({e.GetType().Name}).", e);
                }

                if (secret.Length == 0 || secret.Contains('\n', StringComparison.Ordinal))
                {
                    throw new KeyCustodyException($"{SectionPath}:ClientSecretFile '{path}' must hold the secret alone, on one line.");
                }

                return new ClientSecretCredential(Blank(options.TenantId), Blank(options.ClientId), secret);
            default:
                throw new KeyCustodyException($"{SectionPath}:Credential '{AzureKeyVaultKekOptions.Printable(options.Credential)}' is unknown.");
        }
    }

    /// <summary>
    /// Reads the key from the vault (signing in on the way) and refuses, with a one-line <see cref="KeyCustodyException"/>,
    /// a key that is missing, disabled, not RSA (2048 to 4096 bits), or not allowed to wrap and unwrap. Without a
    /// version in the configured URL, it takes the key's current version; calling it again picks up a newer one.
    /// </summary>
    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        var url = _configured.Version is null ? _configured.Key : _configured.Kid;

        // Without a version, the documented path ends in an empty version segment, as the SDK sends it: /keys/{name}/.
        var path = _configured.Version is null ? url + "/" : url;
        using var message = await SendAsync(RequestMethod.Get, path, body: null, "get key", url, cancellationToken).ConfigureAwait(false);
        ThrowUnlessOk(message, "get key", url);

        KeyBundle bundle;
        try
        {
            bundle = ReadBundle(message.Response);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new KeyCustodyException($"Azure Key Vault answered get key on '{url}' with a body that is not a key bundle ({e.GetType().Name}).");
        }

        if (!KeyVaultKeyUrl.TryParse(bundle.Kid, _options.AllowLoopbackHttp, out var kid, out _) || kid.Version is null || !kid.IsSameKey(_configured)
            || (_configured.Version is not null && !string.Equals(kid.Version, _configured.Version, StringComparison.OrdinalIgnoreCase)))
        {
            throw new KeyCustodyException($"Azure Key Vault answered get key on '{url}' with key id '{AzureKeyVaultKekOptions.Printable(bundle.Kid)}', which is not a version of that key.");
        }

        if (!bundle.Enabled)
        {
            throw new KeyCustodyException($"Azure Key Vault key '{kid.Kid}' is disabled: enable it, or configure {SectionPath}:KeyId with an enabled version.");
        }

        if (bundle.KeyType is not ("RSA" or "RSA-HSM"))
        {
            throw new KeyCustodyException(
                $"Azure Key Vault key '{kid.Kid}' is of type '{AzureKeyVaultKekOptions.Printable(bundle.KeyType)}'; the key-encryption key must be RSA or RSA-HSM (RSA-OAEP-256).");
        }

        if (bundle.ModulusBits is < 2048 or > 4096)
        {
            throw new KeyCustodyException($"Azure Key Vault key '{kid.Kid}' is a {bundle.ModulusBits}-bit RSA key; use 2048 to 4096 bits (3072 or more for keys kept beyond 2030).");
        }

        if (!bundle.Operations.Contains("wrapKey") || !bundle.Operations.Contains("unwrapKey"))
        {
            throw new KeyCustodyException(
                $"Azure Key Vault key '{kid.Kid}' does not allow wrapKey and unwrapKey (its key_ops: {string.Join(", ", bundle.Operations.Select(o => AzureKeyVaultKekOptions.Printable(o)))}); add both operations to the key.");
        }

        var previous = _current;
        _current = kid;
        if (previous is not null && !string.Equals(previous.Kid, kid.Kid, StringComparison.Ordinal))
        {
            KeysLog.AzureKekVersionChanged(_logger, previous.Kid, kid.Kid);
        }

        KeysLog.AzureKekReady(_logger, kid.Kid, Region, bundle.KeyType);
    }

    public async Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        WrappedKeyChecks.RequireDataKeyLength(dataKey.Length);

        cancellationToken.ThrowIfCancellationRequested();
        if (_current is null)
        {
            await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        }

        var current = _current!;
        var contentKey = RandomNumberGenerator.GetBytes(ContentKeyBytes);
        try
        {
            var wrappedContentKey = await VaultOperationAsync(current, "wrapkey", contentKey, cancellationToken).ConfigureAwait(false);
            if (!WrappedContentKeyLengths.Contains(wrappedContentKey.Length))
            {
                throw new KeyCustodyException($"Azure Key Vault wrapped the content key with '{current.Kid}' into {wrappedContentKey.Length} bytes, which no RSA key of 2048 to 4096 bits gives.");
            }

            var length = wrappedContentKey.Length;
            var output = new byte[LengthBytes + length + NonceBytes + dataKey.Length + TagBytes];
            BinaryPrimitives.WriteUInt16BigEndian(output, (ushort)length);
            wrappedContentKey.CopyTo(output.AsSpan(LengthBytes));
            var nonce = output.AsSpan(LengthBytes + length, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            var ciphertextStart = LengthBytes + length + NonceBytes;

            using var aes = new AesGcm(contentKey, TagBytes);
            aes.Encrypt(nonce, dataKey.Span, output.AsSpan(ciphertextStart, dataKey.Length), output.AsSpan(ciphertextStart + dataKey.Length), AssociatedData(current.Kid));
            return new WrappedKey(current.Kid, Algorithm, output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>Any version of the configured vault and key name: Key Vault rotates a key by adding versions.</summary>
    public bool CanUnwrap(string keyId) =>
        KeyVaultKeyUrl.TryParse(keyId, _options.AllowLoopbackHttp, out var url, out _) && url.Version is not null && url.IsSameKey(_configured);

    public async Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        cancellationToken.ThrowIfCancellationRequested();
        var recognised = KeyVaultKeyUrl.TryParse(wrapped.KeyId, _options.AllowLoopbackHttp, out var url, out _) && url.Version is not null && url.IsSameKey(_configured);
        WrappedKeyChecks.RequireWrappedBy(wrapped, recognised, $"Azure Key Vault key '{_configured.Key}' (any version)");
        var ciphertext = wrapped.Ciphertext ?? [];
        var length = ciphertext.Length >= LengthBytes ? BinaryPrimitives.ReadUInt16BigEndian(ciphertext) : 0;
        var dataLength = WrappedKeyChecks.RequireShape(wrapped, Algorithm, LengthBytes + length + NonceBytes + TagBytes);
        if (!WrappedContentKeyLengths.Contains(length))
        {
            throw new KeyCustodyException($"The wrapped key has an impossible length for {Algorithm}: it was truncated or altered.");
        }

        // The version comes from the wrapped key, the vault and the name from this node's configuration.
        var version = _configured.WithVersion(url!.Version!);
        var contentKey = await VaultOperationAsync(version, "unwrapkey", ciphertext.AsSpan(LengthBytes, length).ToArray(), cancellationToken).ConfigureAwait(false);
        var plaintext = new byte[dataLength];
        try
        {
            if (contentKey.Length != ContentKeyBytes)
            {
                throw new KeyCustodyException($"Azure Key Vault unwrapped a content key of an impossible length with '{version.Kid}': the wrapped key was altered.");
            }

            var nonceStart = LengthBytes + length;
            var ciphertextStart = nonceStart + NonceBytes;
            using var aes = new AesGcm(contentKey, TagBytes);
            aes.Decrypt(
                ciphertext.AsSpan(nonceStart, NonceBytes),
                ciphertext.AsSpan(ciphertextStart, dataLength),
                ciphertext.AsSpan(ciphertextStart + dataLength, TagBytes),
                plaintext,
                AssociatedData(wrapped.KeyId));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            // No inner exception and no bytes: the only fact worth telling is that authentication failed.
            CryptographicOperations.ZeroMemory(plaintext);
            throw new KeyCustodyException($"The wrapped key failed authentication under key-encryption key '{version.Kid}': it was altered.");
        }
        catch
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    public void Dispose()
    {
        _challenge.Dispose();
        (_ownedTransport as IDisposable)?.Dispose();
    }

    private static byte[] AssociatedData(string kid) => Encoding.ASCII.GetBytes($"compliance-kek|{kid}|{Algorithm}");

    /// <summary>
    /// Posts <c>{"alg":"RSA-OAEP-256","value":…}</c> to wrapkey or unwrapkey and returns the decoded <c>value</c>.
    /// The request body (which holds the content key for wrapkey) and the buffered response are cleared after use.
    /// </summary>
    private async Task<byte[]> VaultOperationAsync(KeyVaultKeyUrl key, string operation, byte[] value, CancellationToken cancellationToken)
    {
        var body = Body(value);
        try
        {
            using var message = await SendAsync(RequestMethod.Post, $"{key.Kid}/{operation}", body, operation, key.Kid, cancellationToken).ConfigureAwait(false);
            if (operation == "unwrapkey" && message.Response.Status == (int)HttpStatusCode.BadRequest)
            {
                // Key Vault answers 400 when RSA-OAEP decryption fails: the wrapped content key was altered.
                var code = ErrorCode(message.Response);
                KeysLog.AzureKekVaultRefused(_logger, operation, key.Kid, message.Response.Status, code);
                throw new KeyCustodyException(
                    $"The wrapped key failed authentication under key-encryption key '{key.Kid}': Azure Key Vault could not unwrap its content key (HTTP 400 {code}); it was altered.");
            }

            ThrowUnlessOk(message, operation, key.Kid);
            return ReadValue(message.Response, operation, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    private static byte[] Body(ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> prefix = "{\"alg\":\"RSA-OAEP-256\",\"value\":\""u8;
        ReadOnlySpan<byte> suffix = "\"}"u8;
        var encodedLength = Base64Url.GetEncodedLength(value.Length);
        var body = new byte[prefix.Length + encodedLength + suffix.Length];
        prefix.CopyTo(body);
        Base64Url.EncodeToUtf8(value, body.AsSpan(prefix.Length, encodedLength));
        suffix.CopyTo(body.AsSpan(prefix.Length + encodedLength));
        return body;
    }

    private async Task<HttpMessage> SendAsync(RequestMethod method, string url, byte[]? body, string operation, string key, CancellationToken cancellationToken)
    {
        var message = _pipeline.CreateMessage();
        try
        {
            message.Request.Method = method;
            message.Request.Uri.Reset(new Uri($"{url}?api-version={ApiVersion}"));
            message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
            if (body is not null)
            {
                message.Request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
                message.Request.Content = RequestContent.Create(body);
            }

            try
            {
                await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<KeyCustodyException>().FirstOrDefault() is { } custody)
            {
                throw custody;
            }
            catch (Exception e) when (e is not KeyCustodyException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw new KeyCustodyException($"Azure Key Vault {_configured.OriginText} could not be reached for {operation} on '{key}' ({e.GetType().Name}).", e);
            }

            return message;
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    private void ThrowUnlessOk(HttpMessage message, string operation, string key)
    {
        var status = message.Response.Status;
        if (status == (int)HttpStatusCode.OK)
        {
            return;
        }

        var code = ErrorCode(message.Response);
        KeysLog.AzureKekVaultRefused(_logger, operation, key, status, code);
        var hint = status switch
        {
            401 => ": the token was not accepted; check the identity and its tenant",
            403 => ": the identity lacks the permission (role Key Vault Crypto User, or keys/get, wrapKey and unwrapKey), or the key is disabled",
            404 => ": no such key or version in this vault",
            429 => ": throttled, and still throttled after the retries",
            >= 500 => ": the vault failed, and still failed after the retries",
            _ => "",
        };
        throw new KeyCustodyException($"Azure Key Vault refused {operation} on '{key}': HTTP {status} {code}{hint}.");
    }

    /// <summary>The error code of <c>{"error":{"code":…}}</c>, if it looks like one; never the message, which may echo input.</summary>
    private static string ErrorCode(Response response)
    {
        try
        {
            using var document = JsonDocument.Parse(Limited(response));
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                && code.GetString() is { Length: > 0 and <= 64 } text && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return text;
            }
        }
        catch (JsonException)
        {
        }

        return "(no error code)";
    }

    private static ReadOnlyMemory<byte> Limited(Response response)
    {
        var content = response.Content?.ToMemory() ?? ReadOnlyMemory<byte>.Empty;
        return content.Length > MaxResponseBytes ? ReadOnlyMemory<byte>.Empty : content;
    }

    /// <summary>Decodes the <c>value</c> of a key operation result without making a string of it, then clears the buffered response.</summary>
    private static byte[] ReadValue(Response response, string operation, KeyVaultKeyUrl key)
    {
        var stream = response.ContentStream;
        byte[]? copy = null;
        ArraySegment<byte> buffer;
        if (stream is MemoryStream memory && memory.TryGetBuffer(out var segment))
        {
            buffer = segment[..(int)memory.Length];
        }
        else
        {
            copy = response.Content.ToArray();
            buffer = copy;
        }

        try
        {
            if (buffer.Count <= MaxResponseBytes && ValueOf(buffer) is { } value)
            {
                return value;
            }

            throw new KeyCustodyException($"Azure Key Vault answered {operation} on '{key.Kid}' without a base64url value.");
        }
        finally
        {
            buffer.AsSpan().Clear();
            if (copy is not null)
            {
                CryptographicOperations.ZeroMemory(copy);
            }
        }
    }

    private static byte[]? ValueOf(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isValue = reader.ValueTextEquals("value"u8);
                reader.Read();
                if (isValue && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence)
                {
                    var decoded = new byte[Base64Url.GetMaxDecodedLength(reader.ValueSpan.Length)];
                    var status = Base64Url.DecodeFromUtf8(reader.ValueSpan, decoded, out _, out var written);
                    if (status != System.Buffers.OperationStatus.Done || written == 0)
                    {
                        CryptographicOperations.ZeroMemory(decoded);
                        return null;
                    }

                    var value = decoded[..written];
                    CryptographicOperations.ZeroMemory(decoded);
                    return value;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static KeyBundle ReadBundle(Response response)
    {
        using var document = JsonDocument.Parse(Limited(response));
        var root = document.RootElement;
        var key = root.GetProperty("key");
        var kid = key.GetProperty("kid").GetString();
        var keyType = key.GetProperty("kty").GetString();
        var operations = key.TryGetProperty("key_ops", out var ops) && ops.ValueKind == JsonValueKind.Array
            ? ops.EnumerateArray().Where(o => o.ValueKind == JsonValueKind.String).Select(o => o.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var enabled = !root.TryGetProperty("attributes", out var attributes) || !attributes.TryGetProperty("enabled", out var flag) || flag.GetBoolean();
        var modulusBits = 0;
        if (key.TryGetProperty("n", out var n) && n.GetString() is { } modulus)
        {
            var bytes = Base64Url.DecodeFromChars(modulus);
            modulusBits = bytes.AsSpan().TrimStart((byte)0).Length * 8;
        }

        return new KeyBundle(kid, keyType, operations, enabled, modulusBits);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private sealed record KeyBundle(string? Kid, string? KeyType, HashSet<string> Operations, bool Enabled, int ModulusBits);

    private sealed class PipelineOptions : ClientOptions
    {
    }
}
