using System.Diagnostics;
using System.Security.Cryptography;
using Compliance.Keys.AzureKeyVault;
using Compliance.Testing;

namespace Compliance.Keys.Tests.AzureKeyVault;

/// <summary>
/// Tests against the Key Vault stand-in, signing in with Azure.Identity's real ManagedIdentityCredential (App
/// Service mode) pointed at the stand-in's token endpoint through IDENTITY_ENDPOINT and IDENTITY_HEADER. Those are
/// process-wide environment variables, hence a collection that runs alone.
/// </summary>
[Collection(AzureKeyVaultTestGroup.Name)]
public sealed class AzureKeyVaultKeyEncryptionKeyTests : IAsyncLifetime
{
    private const string KeyName = "compliance-kek";

    private KeyVaultStandIn _vault = null!;
    private IDisposable _identity = null!;
    private string _firstVersion = "";
    private readonly List<IDisposable> _keks = [];

    public async Task InitializeAsync()
    {
        _vault = await KeyVaultStandIn.StartAsync();
        _identity = _vault.UseAsManagedIdentity();
        _firstVersion = _vault.CreateKey(KeyName);
    }

    public async Task DisposeAsync()
    {
        _keks.ForEach(k => k.Dispose());
        _identity.Dispose();
        await _vault.DisposeAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(16 * 1024)]
    public async Task UnwrapAsync_WhatWrapAsyncWrapped_ReturnsTheDataKey(int length)
    {
        var kek = await ReadyKek();
        var dataKey = RandomNumberGenerator.GetBytes(length);

        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);
        var unwrapped = await kek.UnwrapAsync(wrapped, CancellationToken.None);

        unwrapped.ShouldBe(dataKey);
        wrapped.KeyId.ShouldBe(_vault.KeyUrl(KeyName, _firstVersion));
        wrapped.Algorithm.ShouldBe("RSA-OAEP-256+A256GCM");
        wrapped.Ciphertext.Length.ShouldBe(2 + 256 + 12 + length + 16);
        if (length >= 16)
        {
            Contains(wrapped.Ciphertext, dataKey).ShouldBeFalse();
        }
    }

    [Fact]
    public async Task WrapAsync_SameKeyTwice_GivesDifferentContentKeysAndCiphertexts()
    {
        var kek = await ReadyKek();
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var first = await kek.WrapAsync(dataKey, CancellationToken.None);
        var second = await kek.WrapAsync(dataKey, CancellationToken.None);

        second.Ciphertext.AsSpan(2, 256).SequenceEqual(first.Ciphertext.AsSpan(2, 256)).ShouldBeFalse("a fresh content key per call");
        second.Ciphertext.AsSpan(2 + 256).SequenceEqual(first.Ciphertext.AsSpan(2 + 256)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("payload")]
    [InlineData("nonce")]
    [InlineData("tag")]
    public async Task UnwrapAsync_TamperedLocalPart_FailsAuthentication(string part)
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[part switch { "nonce" => 2 + 256 + 3, "payload" => 2 + 256 + 12 + 5, _ => tampered.Length - 1 }] ^= 0x01;

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None));

        exception.Message.ShouldContain("failed authentication");
        exception.Message.ShouldContain("altered");
        exception.InnerException.ShouldBeNull();
    }

    [Fact]
    public async Task UnwrapAsync_TamperedWrappedContentKey_VaultRefusesAndItFailsAuthentication()
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[2 + 100] ^= 0x01;

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None));

        exception.Message.ShouldContain("failed authentication");
        exception.Message.ShouldContain("HTTP 400 BadParameter");
        _vault.Count("unwrapkey").ShouldBe(1);
    }

    [Fact]
    public async Task UnwrapAsync_WrappedContentKeyOfAnotherWrappedKey_FailsAuthentication()
    {
        var kek = await ReadyKek();
        var first = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var second = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var spliced = (byte[])first.Ciphertext.Clone();
        second.Ciphertext.AsSpan(0, 2 + 256).CopyTo(spliced);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(first with { Ciphertext = spliced }, CancellationToken.None));

        exception.Message.ShouldContain("failed authentication");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(2 + 256 + 12 + 16)]
    public async Task UnwrapAsync_ImpossibleLength_IsRefusedWithoutCallingTheVault(int length)
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = wrapped.Ciphertext[..length] }, CancellationToken.None));

        exception.Message.ShouldContain("impossible length");
        _vault.Count("unwrapkey").ShouldBe(0);
    }

    [Fact]
    public async Task UnwrapAsync_WrongContentKeyLengthPrefix_IsRefused()
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[0] = 0x02;

        await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None));
        _vault.Count("unwrapkey").ShouldBe(0);
    }

    [Fact]
    public async Task UnwrapAsync_OtherAlgorithm_IsRefused()
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Algorithm = "A256GCM" }, CancellationToken.None));

        exception.Message.ShouldContain("A256GCM");
    }

    [Fact]
    public async Task UnwrapAsync_KeyOfAnotherName_IsRefusedNamingBothKeys()
    {
        var otherVersion = _vault.CreateKey("other-kek");
        var other = await ReadyKek(_vault.KeyUrl("other-kek"));
        var wrapped = await other.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var kek = await ReadyKek();

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped, CancellationToken.None));

        exception.Message.ShouldContain(_vault.KeyUrl("other-kek", otherVersion));
        exception.Message.ShouldContain(_vault.KeyUrl(KeyName));
        _vault.Count("unwrapkey").ShouldBe(0);
    }

    [Theory]
    [InlineData("https://othervault.vault.azure.net/keys/compliance-kek/0123456789abcdef0123456789abcdef")]
    [InlineData("http://127.0.0.2:1/keys/compliance-kek/0123456789abcdef0123456789abcdef")]
    [InlineData("compliance-kek")]
    [InlineData("local:000000000000000000000000")]
    public async Task UnwrapAsync_KeyOfAnotherVault_IsRefusedNamingBothKeys(string keyId)
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { KeyId = keyId }, CancellationToken.None));

        exception.Message.ShouldContain(keyId);
        exception.Message.ShouldContain(_vault.KeyUrl(KeyName));
        _vault.Count("unwrapkey").ShouldBe(0);
    }

    [Fact]
    public async Task UnwrapAsync_AfterANewVersion_OlderWrappedKeysStillUnwrapAndNewOnesUseTheNewVersion()
    {
        var kek = await ReadyKek();
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var old = await kek.WrapAsync(dataKey, CancellationToken.None);

        var newVersion = _vault.AddVersion(KeyName);
        await kek.EnsureReadyAsync(CancellationToken.None);
        var restarted = await ReadyKek();
        var fresh = await restarted.WrapAsync(dataKey, CancellationToken.None);

        kek.KeyId.ShouldBe(_vault.KeyUrl(KeyName, newVersion));
        restarted.KeyId.ShouldBe(_vault.KeyUrl(KeyName, newVersion));
        fresh.KeyId.ShouldBe(_vault.KeyUrl(KeyName, newVersion));
        old.KeyId.ShouldBe(_vault.KeyUrl(KeyName, _firstVersion));
        (await restarted.UnwrapAsync(old, CancellationToken.None)).ShouldBe(dataKey);
        (await kek.UnwrapAsync(fresh, CancellationToken.None)).ShouldBe(dataKey);
    }

    [Fact]
    public async Task KeyId_PinnedVersion_StaysOnItAfterANewVersion()
    {
        _vault.AddVersion(KeyName);

        var kek = await ReadyKek(_vault.KeyUrl(KeyName, _firstVersion));

        kek.KeyId.ShouldBe(_vault.KeyUrl(KeyName, _firstVersion));
    }

    [Fact]
    public void KeyId_NoVersionAndNotReady_SaysToCallEnsureReadyAsync()
    {
        var kek = Kek(_vault.KeyUrl(KeyName));

        Should.Throw<KeyCustodyException>(() => kek.KeyId).Message.ShouldContain("EnsureReadyAsync");
    }

    [Fact]
    public async Task EnsureReadyAsync_FirstRequest_IsChallengedThenSignsInOnceForManyCalls()
    {
        var kek = Kek(_vault.KeyUrl(KeyName));

        await kek.EnsureReadyAsync(CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
            await kek.UnwrapAsync(wrapped, CancellationToken.None);
        }

        _vault.Count("challenge").ShouldBe(1);
        _vault.Count("token").ShouldBe(1);
        _vault.Count("get").ShouldBe(1);
        _vault.Count("wrapkey").ShouldBe(10);
        _vault.Count("unwrapkey").ShouldBe(10);
    }

    [Fact]
    public async Task WrapAsync_NotReadyYet_SignsInAndResolvesTheVersionOnTheWay()
    {
        var kek = Kek(_vault.KeyUrl(KeyName));

        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        wrapped.KeyId.ShouldBe(_vault.KeyUrl(KeyName, _firstVersion));
        _vault.Count("token").ShouldBe(1);
    }

    [Theory]
    [InlineData("https://graph.microsoft.com")]
    [InlineData("https://management.azure.com/")]
    [InlineData("http://127.0.0.1:1")]
    [InlineData("https://vault.azure.net")]
    [InlineData("not a url")]
    public async Task EnsureReadyAsync_ChallengeForAnotherResource_IsRefusedAndNoTokenIsEverSent(string resource)
    {
        _vault.ChallengeWithResource(resource);
        var logger = new CapturingLogger<AzureKeyVaultKeyEncryptionKey>();
        var kek = Kek(_vault.KeyUrl(KeyName), logger);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("Refused the authentication challenge");
        exception.Message.ShouldContain("No token was requested or sent");
        _vault.Count("token").ShouldBe(0);
        _vault.Count("authorization").ShouldBe(0);
        _vault.Count("challenge").ShouldBe(1);
        logger.Lines.ShouldContain(l => l.Contains(" 1352 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrapAsync_FirstRequestBeforeAnyChallenge_SendsNoBodyUnauthenticated()
    {
        var kek = Kek(_vault.KeyUrl(KeyName, _firstVersion));

        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        _vault.Count("challenge").ShouldBe(1);
        _vault.Count("challenged-with-body").ShouldBe(0, "the unauthenticated probe carries no content key");
        _vault.Count("wrapkey").ShouldBe(1);
        (await kek.UnwrapAsync(wrapped, CancellationToken.None)).Length.ShouldBe(32);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WrapAsync_Throttled_WaitsForRetryAfterThenSucceeds(int retryAfterSeconds)
    {
        var kek = await ReadyKek();
        _vault.ThrottleNext(1, retryAfterSeconds);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var watch = Stopwatch.StartNew();
        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);
        watch.Stop();

        // Less a timer tick: the delay is timed by Azure.Core's clock, this watch starts a moment before the first request.
        watch.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(retryAfterSeconds) - TimeSpan.FromMilliseconds(20));
        _vault.Count("throttled").ShouldBe(1);
        _vault.Count("wrapkey").ShouldBe(1, "the throttled attempt is answered before routing");
        (await kek.UnwrapAsync(wrapped, CancellationToken.None)).ShouldBe(dataKey);
    }

    [Fact]
    public async Task WrapAsync_ServerErrorsThenSuccess_IsRetried()
    {
        var kek = await ReadyKek();
        _vault.FailNext(2, 503);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);

        _vault.Count("failed").ShouldBe(2);
        (await kek.UnwrapAsync(wrapped, CancellationToken.None)).ShouldBe(dataKey);
    }

    [Fact]
    public async Task WrapAsync_ThrottledBeyondTheRetries_IsAOneLineRefusalNaming429()
    {
        var kek = await ReadyKek();
        _vault.ThrottleNext(10, retryAfterSeconds: 0);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None));

        exception.Message.ShouldContain("HTTP 429");
        _vault.Count("throttled").ShouldBe(4, "one attempt and three retries");
    }

    [Fact]
    public async Task EnsureReadyAsync_KeyNotFound_IsAOneLineRefusalNamingStatusAndCode()
    {
        var kek = Kek(_vault.KeyUrl("missing-kek"));

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("HTTP 404 KeyNotFound");
        exception.Message.ShouldContain(_vault.KeyUrl("missing-kek"));
        exception.Message.ShouldNotContain("\n");
        exception.Message.ShouldNotContain("was not found in this key vault", Case.Insensitive, "the vault's own message is not echoed");
    }

    [Fact]
    public async Task EnsureReadyAsync_DisabledKey_IsAOneLineRefusal()
    {
        _vault.Disable(KeyName, _firstVersion);
        var kek = Kek(_vault.KeyUrl(KeyName));

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("disabled");
        exception.Message.ShouldContain(_vault.KeyUrl(KeyName, _firstVersion));
        exception.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task UnwrapAsync_DisabledOlderVersion_IsRefusedNamingForbidden()
    {
        var kek = await ReadyKek();
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        _vault.AddVersion(KeyName);
        _vault.Disable(KeyName, _firstVersion);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped, CancellationToken.None));

        exception.Message.ShouldContain("HTTP 403 Forbidden");
    }

    [Fact]
    public async Task EnsureReadyAsync_KeyWithoutWrapOperations_IsAOneLineRefusal()
    {
        _vault.CreateKey("sign-only", ["sign", "verify"]);
        var kek = Kek(_vault.KeyUrl("sign-only"));

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("wrapKey and unwrapKey");
        exception.Message.ShouldContain("sign, verify");
        exception.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task EnsureReadyAsync_NoPermission_IsAOneLineRefusalNamingForbidden()
    {
        _vault.Deny("get");
        var kek = Kek(_vault.KeyUrl(KeyName));

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("HTTP 403 Forbidden");
        exception.Message.ShouldContain("Key Vault Crypto User");
        exception.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task EnsureReadyAsync_VaultUnreachable_IsAKeyCustodyException()
    {
        var port = _vault.Origin[(_vault.Origin.LastIndexOf(':') + 1)..];
        await _vault.DisposeAsync();
        _vault = await KeyVaultStandIn.StartAsync();
        var kek = Kek($"http://127.0.0.1:{port}/keys/{KeyName}");

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));

        exception.Message.ShouldContain("could not be reached");
    }

    [Fact]
    public async Task LogsAndMessages_ThroughSuccessAndFailure_HoldNoTokenAndNoKeyBytes()
    {
        var logger = new CapturingLogger<AzureKeyVaultKeyEncryptionKey>();
        var kek = Kek(_vault.KeyUrl(KeyName), logger);
        await kek.EnsureReadyAsync(CancellationToken.None);
        var dataKey = RandomNumberGenerator.GetBytes(64);
        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);
        var messages = new List<string>();
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[10] ^= 1;
        messages.Add((await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None))).ToString());
        tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[^1] ^= 1;
        messages.Add((await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None))).ToString());
        messages.Add((await Should.ThrowAsync<KeyCustodyException>(() => Kek(_vault.KeyUrl("missing"), logger).EnsureReadyAsync(CancellationToken.None))).ToString());
        _vault.ChallengeWithResource("https://graph.microsoft.com");
        messages.Add((await Should.ThrowAsync<KeyCustodyException>(() => Kek(_vault.KeyUrl(KeyName), logger).EnsureReadyAsync(CancellationToken.None))).ToString());

        var everything = logger.All + "\n" + string.Join("\n", messages) + "\n" + wrapped;
        _vault.IssuedTokens.Count.ShouldBe(1);
        logger.Lines.Count.ShouldBeGreaterThan(3);
        foreach (var token in _vault.IssuedTokens)
        {
            everything.ShouldNotContain(token);
            everything.ShouldNotContain(token[..16]);
        }

        foreach (var encoded in Encodings(dataKey).Concat(Encodings(wrapped.Ciphertext.AsSpan(2, 256).ToArray())))
        {
            everything.ShouldNotContain(encoded, Case.Insensitive);
        }

        everything.ShouldNotContain(_vault.IdentityHeader);
    }

    [Fact]
    public async Task WrapAndUnwrap_HundredAtOnce_AllRoundTrip()
    {
        var kek = await ReadyKek();
        var dataKeys = Enumerable.Range(0, 100).Select(i => RandomNumberGenerator.GetBytes(1 + (i * 97 % 2048))).ToList();

        var wrapped = await Task.WhenAll(dataKeys.Select(k => Task.Run(() => kek.WrapAsync(k, CancellationToken.None))));
        var unwrapped = await Task.WhenAll(wrapped.Reverse().Select(w => Task.Run(() => kek.UnwrapAsync(w, CancellationToken.None))));

        unwrapped.Reverse().ToList().ShouldBe(dataKeys);
        _vault.Count("token").ShouldBe(1);
    }

    [Fact]
    public async Task DescriptionRegionAndCustody_AreForTheAuditTrail()
    {
        var kek = await ReadyKek();

        kek.Description.ShouldBe($"Azure Key Vault {_vault.Origin}, key {KeyName}");
        kek.Region.ShouldBe("francecentral");
        AzureKeyVaultKeyEncryptionKey.CustodyName.ShouldBe("azure-key-vault");
    }

    private async Task<AzureKeyVaultKeyEncryptionKey> ReadyKek(string? keyUrl = null)
    {
        var kek = Kek(keyUrl ?? _vault.KeyUrl(KeyName));
        await kek.EnsureReadyAsync(CancellationToken.None);
        return kek;
    }

    private AzureKeyVaultKeyEncryptionKey Kek(string keyUrl, CapturingLogger<AzureKeyVaultKeyEncryptionKey>? logger = null)
    {
        var options = new AzureKeyVaultKekOptions
        {
            KeyId = keyUrl,
            Region = "francecentral",
            Credential = AzureKeyVaultKekOptions.CredentialManagedIdentity,
            AllowLoopbackHttp = true,
        };
        var kek = new AzureKeyVaultKeyEncryptionKey(options, AzureKeyVaultKeyEncryptionKey.CreateCredential(options), logger ?? new CapturingLogger<AzureKeyVaultKeyEncryptionKey>());
        _keks.Add(kek);
        return kek;
    }

    private static IEnumerable<string> Encodings(byte[] bytes) =>
    [
        Convert.ToHexString(bytes),
        Convert.ToBase64String(bytes)[..16],
        System.Buffers.Text.Base64Url.EncodeToString(bytes)[..16],
    ];

    private static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}

/// <summary>The Azure Key Vault tests set process-wide environment variables (IDENTITY_ENDPOINT): they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AzureKeyVaultTestGroup
{
    public const string Name = "AzureKeyVault";
}
