using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compliance.Audit.Trail;
using Compliance.Keys.AzureKeyVault;
using Compliance.Keys.Encryption;
using Compliance.Keys.Pkcs11;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Escrow;

/// <summary>Writes and opens key-encryption key escrows (see <see cref="IKekEscrow"/>).</summary>
internal sealed class KekEscrow(IKeyEncryptionKey kek, IOptions<KeysOptions> options, IServiceScopeFactory scopes, TimeProvider time) : IKekEscrow
{
    public const string Format = "compliance-kek-escrow/1";
    public const int MinRecipientBits = 3072;
    private const string ContentType = "compliance-kek-escrow+json";
    private const int MaxEscrowBytes = 64 * 1024;

    public async Task<KekEscrowExport> ExportAsync(string recipientPublicKeyPem, string path, CancellationToken cancellationToken)
    {
        using var recipient = ReadPublicKey(recipientPublicKeyPem);
        await kek.EnsureReadyAsync(cancellationToken);
        var keys = kek is KeyEncryptionKeys chain ? new[] { (chain.Current, (KekSettings)options.Value), (chain.Previous, options.Value.Previous) } : [(kek, options.Value)];
        var entries = new JsonArray();
        var ids = new List<string>();
        var secrets = new List<byte[]>();
        try
        {
            foreach (var (key, settings) in keys)
            {
                if (key is null || settings is null)
                {
                    continue;
                }

                entries.Add(Entry(key, settings, secrets));
                ids.Add(key.KeyId);
            }

            var payload = new JsonObject
            {
                ["format"] = Format,
                ["created_at"] = time.GetUtcNow().ToUnixTimeSeconds(),
                ["keks"] = entries,
            };
            var plaintext = Encoding.UTF8.GetBytes(payload.ToJsonString());
            byte[] jwe;
            try
            {
                jwe = Encoding.ASCII.GetBytes(Seal(plaintext, recipient));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }

            Write(path, jwe);
        }
        finally
        {
            secrets.ForEach(s => CryptographicOperations.ZeroMemory(s));
        }

        var thumbprint = Thumbprint(recipient);
        await using (var scope = scopes.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(AuditEventTypes.KeyEscrowExported,
                scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null,
                JsonSerializer.Serialize(new Dictionary<string, object> { ["custody"] = kek.Custody, ["kek_ids"] = ids, ["recipient"] = thumbprint }),
                cancellationToken);
        }

        return new KekEscrowExport(Path.GetFullPath(path), ids, thumbprint);
    }

    public KekEscrowOpened Open(string privateKeyPem, string escrow, bool restore, string? kekId = null)
    {
        var payload = OpenPayload(privateKeyPem, escrow);
        var keks = payload["keks"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
        string? restoredTo = null;
        if (restore)
        {
            var entry = keks.FirstOrDefault(k => (string?)k["custody"] == LocalFileKeyEncryptionKey.CustodyName && (kekId is null || (string?)k["kek_id"] == kekId))
                ?? throw new KeyCustodyException(kekId is null
                    ? "The escrow holds no local key to restore: a PKCS#11 or Key Vault key is recovered in its own custody, from the references it names."
                    : $"The escrow holds no local key '{kekId}'.");
            var local = (kek is KeyEncryptionKeys chain ? chain.Current : kek) as LocalFileKeyEncryptionKey
                ?? throw new KeyCustodyException("A local key is restored with Keys:Kek=local, to the file Keys:LocalKekPath names.");
            var material = Convert.FromBase64String((string?)entry["key"] ?? "");
            try
            {
                var restoredId = local.Restore(material);
                if (restoredId != (string?)entry["kek_id"])
                {
                    File.Delete(local.FilePath);
                    throw new KeyCustodyException("The escrowed key does not give back the id the escrow names: it was altered. Nothing was restored.");
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }

            restoredTo = local.FilePath;
        }

        return new KekEscrowOpened(
            DateTimeOffset.FromUnixTimeSeconds((long?)payload["created_at"] ?? 0),
            [.. keks.Select(k => (IReadOnlyDictionary<string, string>)k.Where(p => p.Key != "key" && p.Value is not null)
                .ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal))],
            restoredTo);
    }

    /// <summary>
    /// Opens an escrow with the operator's private key (PEM, PKCS#8 or PKCS#1) and returns its payload. Works
    /// without any store or setting, since it is what recovery starts from.
    /// </summary>
    public static JsonObject OpenPayload(string privateKeyPem, string escrow)
    {
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(privateKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new KeyCustodyException("The operator's private key is not an RSA private key in PEM form.");
        }

        var parts = escrow.Trim().Split('.');
        if (parts.Length != 5 || escrow.Length > MaxEscrowBytes)
        {
            throw new KeyCustodyException("This is not a key-encryption key escrow (a compact JWE of five parts).");
        }

        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))?.AsObject();
            if ((string?)header?["alg"] != "RSA-OAEP-256" || (string?)header["enc"] != "A256GCM" || (string?)header["cty"] != ContentType)
            {
                throw new KeyCustodyException("This JWE is not a key-encryption key escrow of this service (alg, enc or cty differ).");
            }

            var contentKey = rsa.Decrypt(Base64Url.DecodeFromChars(parts[1]), RSAEncryptionPadding.OaepSHA256);
            var ciphertext = Base64Url.DecodeFromChars(parts[3]);
            var plaintext = new byte[ciphertext.Length];
            try
            {
                using var aes = new AesGcm(contentKey, 16);
                aes.Decrypt(Base64Url.DecodeFromChars(parts[2]), ciphertext, Base64Url.DecodeFromChars(parts[4]), plaintext, Encoding.ASCII.GetBytes(parts[0]));
                var payload = JsonNode.Parse(plaintext)?.AsObject();
                return (string?)payload?["format"] == Format ? payload : throw new KeyCustodyException($"The escrow's format is not {Format}.");
            }
            finally
            {
                CryptographicOperations.ZeroMemory(contentKey);
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }
        catch (Exception e) when (e is CryptographicException or FormatException or JsonException)
        {
            throw new KeyCustodyException("The escrow does not open with this private key: it is for another operator's key, or it was altered.");
        }
    }

    private static JsonObject Entry(IKeyEncryptionKey key, KekSettings settings, List<byte[]> secrets)
    {
        var entry = new JsonObject { ["custody"] = key.Custody, ["kek_id"] = key.KeyId };
        switch (key)
        {
            case LocalFileKeyEncryptionKey local:
                var material = local.ExportForEscrow();
                secrets.Add(material);
                entry["key"] = Convert.ToBase64String(material);
                break;
            case Pkcs11KeyEncryptionKey:
                // The key never leaves the token: its backup is the HSM's own. The PIN is kept by its own custodians.
                entry["module_path"] = settings.Pkcs11.ModulePath;
                entry["token_label"] = settings.Pkcs11.TokenLabel;
                entry["slot"] = settings.Pkcs11.Slot;
                entry["key_label"] = settings.Pkcs11.KeyLabel;
                break;
            case AzureKeyVaultKeyEncryptionKey vault:
                // The key never leaves the vault: soft-delete and purge protection keep it. No client secret here.
                entry["key_url"] = key.KeyId;
                entry["region"] = vault.Region;
                entry["credential"] = settings.AzureKeyVault.Credential;
                entry["tenant_id"] = settings.AzureKeyVault.TenantId;
                entry["client_id"] = settings.AzureKeyVault.ClientId ?? settings.AzureKeyVault.ManagedIdentityClientId;
                break;
        }

        return entry;
    }

    private static RSA ReadPublicKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new ArgumentException("The recipient is not an RSA public key in PEM form (-----BEGIN PUBLIC KEY-----).");
        }

        if (rsa.KeySize < MinRecipientBits)
        {
            var bits = rsa.KeySize;
            rsa.Dispose();
            throw new ArgumentException($"The recipient's RSA key has {bits} bits; an escrow that must outlive the keys it protects needs {MinRecipientBits} or more.");
        }

        return rsa;
    }

    /// <summary>RFC 7516 compact serialization: header . encrypted key . iv . ciphertext . tag.</summary>
    private static string Seal(byte[] plaintext, RSA recipient)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["alg"] = "RSA-OAEP-256", ["enc"] = "A256GCM", ["cty"] = ContentType, ["kid"] = Thumbprint(recipient),
        }.ToJsonString()));
        var contentKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var encryptedKey = recipient.Encrypt(contentKey, RSAEncryptionPadding.OaepSHA256);
            var iv = RandomNumberGenerator.GetBytes(12);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[16];
            using var aes = new AesGcm(contentKey, 16);
            aes.Encrypt(iv, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(header));
            return string.Join('.', header, Base64Url.EncodeToString(encryptedKey), Base64Url.EncodeToString(iv), Base64Url.EncodeToString(ciphertext), Base64Url.EncodeToString(tag));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    private static string Thumbprint(RSA key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    private static void Write(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new ArgumentException($"'{path}' already exists; an escrow is never written over a file.", e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or DirectoryNotFoundException)
        {
            throw new ArgumentException($"Cannot write the escrow to '{path}' ({e.GetType().Name}).", e);
        }
    }
}
