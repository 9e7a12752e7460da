using System.Diagnostics;
using System.Security.Cryptography;
using Compliance.Keys.Pkcs11;
using Compliance.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Net.Pkcs11Interop.Common;
using Xunit.Abstractions;

namespace Compliance.Keys.Tests.Pkcs11;

public sealed class Pkcs11KeyEncryptionKeyTests(Pkcs11KeyEncryptionKeyTests.Token token, ITestOutputHelper output)
    : IClassFixture<Pkcs11KeyEncryptionKeyTests.Token>
{
    public const string Pin = "user-pin-1234";

    /// <summary>One token for the class, holding the KEK that <see cref="Pkcs11KeyEncryptionKey.CreateKeyAsync"/> made.</summary>
    public sealed class Token : IDisposable
    {
        public const string Label = "kek-main";
        public const string OtherTokenLabel = "kek-main-other";

        public Token()
        {
            SoftHsm.Instance.InitToken(Label, Pin);
            SoftHsm.Instance.InitToken(OtherTokenLabel, Pin);
            using var creator = Kek(Label, "kek");
            KeyId = creator.CreateKeyAsync(CancellationToken.None).GetAwaiter().GetResult();
            Kek = Kek(Label, "kek");
        }

        public string KeyId { get; }

        internal Pkcs11KeyEncryptionKey Kek { get; }

        public void Dispose() => Kek.Dispose();
    }

    private Pkcs11KeyEncryptionKey Sut => token.Kek;

    [Fact]
    public async Task UnwrapAsync_WhatWrapAsyncWrapped_ReturnsTheDataKey()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = await Sut.WrapAsync(dataKey, CancellationToken.None);
        var unwrapped = await Sut.UnwrapAsync(wrapped, CancellationToken.None);

        unwrapped.ShouldBe(dataKey);
        wrapped.KeyId.ShouldBe(token.KeyId);
        wrapped.Algorithm.ShouldBe("PKCS11-A256GCM");
        wrapped.Ciphertext.Length.ShouldBe(12 + 32 + 16);
        wrapped.Ciphertext.AsSpan().IndexOf(dataKey).ShouldBe(-1);
    }

    [Fact]
    public async Task WrapAsync_SameKeyTwice_GivesDifferentIvsAndCiphertexts()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var first = await Sut.WrapAsync(dataKey, CancellationToken.None);
        var second = await Sut.WrapAsync(dataKey, CancellationToken.None);

        second.Ciphertext[..12].ShouldNotBe(first.Ciphertext[..12]);
        second.Ciphertext.ShouldNotBe(first.Ciphertext);
    }

    [Fact]
    public void KeyId_CreatedKey_IsAnRfc7512UriNamingTokenKeyAndId()
    {
        token.KeyId.ShouldMatch("^pkcs11:token=kek-main;object=kek;id=(%[0-9A-F]{2}){16}$");
        Sut.KeyId.ShouldBe(token.KeyId);
        using var second = Kek(Token.Label, "kek");
        second.KeyId.ShouldBe(token.KeyId);
        Sut.Description.ShouldBe($"PKCS#11 module {SoftHsm.ModulePath}, token 'kek-main', key 'kek'");
    }

    [Fact]
    public void KeyIdFor_LabelsOutsideUnreservedCharacters_ArePercentEncoded()
    {
        Pkcs11KeyEncryptionKey.KeyIdFor("a b;c", "é/=%", [0x00, 0xAB]).ShouldBe("pkcs11:token=a%20b%3Bc;object=%C3%A9%2F%3D%25;id=%00%AB");
    }

    [Fact]
    public void ReadAttributes_CreatedKey_IsSensitiveNeverExtractableAndItsValueCannotBeRead()
    {
        var keys = SoftHsm.Instance.ReadKeyAttributes(Token.Label, Pin, "kek",
            CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_ALWAYS_SENSITIVE, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_VALUE,
            CKA.CKA_MODIFIABLE, CKA.CKA_WRAP, CKA.CKA_UNWRAP, CKA.CKA_VALUE_LEN, CKA.CKA_PRIVATE);

        var key = keys.ShouldHaveSingleItem().ToDictionary(a => (CKA)a.Type);
        key[CKA.CKA_SENSITIVE].GetValueAsBool().ShouldBeTrue();
        key[CKA.CKA_EXTRACTABLE].GetValueAsBool().ShouldBeFalse();
        key[CKA.CKA_ALWAYS_SENSITIVE].GetValueAsBool().ShouldBeTrue();
        key[CKA.CKA_NEVER_EXTRACTABLE].GetValueAsBool().ShouldBeTrue();
        key[CKA.CKA_VALUE].CannotBeRead.ShouldBeTrue();
        key[CKA.CKA_MODIFIABLE].GetValueAsBool().ShouldBeFalse();
        key[CKA.CKA_WRAP].GetValueAsBool().ShouldBeFalse();
        key[CKA.CKA_UNWRAP].GetValueAsBool().ShouldBeFalse();
        key[CKA.CKA_VALUE_LEN].GetValueAsUlong().ShouldBe(32UL);
        key[CKA.CKA_PRIVATE].GetValueAsBool().ShouldBeTrue();
    }

    [Fact]
    public void SetAttribute_CreatedKey_CannotBeMadeExtractable()
    {
        SoftHsm.Instance.TrySetKeyAttribute(Token.Label, Pin, "kek", CKA.CKA_EXTRACTABLE, true).ShouldNotBe(CKR.CKR_OK);
    }

    [Fact]
    public async Task CreateKeyAsync_LabelTaken_IsRefusedAndTheKeyKept()
    {
        using var kek = Kek(Token.Label, "kek");

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.CreateKeyAsync(CancellationToken.None));

        exception.Message.ShouldContain("Keys:Pkcs11:KeyLabel");
        exception.Message.ShouldContain("never replaced");
        SoftHsm.Instance.ReadKeyAttributes(Token.Label, Pin, "kek", CKA.CKA_ID).ShouldHaveSingleItem();
        kek.KeyId.ShouldBe(token.KeyId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    [InlineData(20)]
    [InlineData(12 + 32 + 15)]
    public async Task UnwrapAsync_TamperedIvCiphertextOrTag_FailsAuthenticationWithoutTheBytes(int index)
    {
        var wrapped = await Sut.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[index] ^= 0x01;

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None));

        exception.Message.ShouldBe($"The wrapped key failed authentication under key-encryption key '{token.KeyId}': it was altered.");
        exception.InnerException.ShouldBeNull();
        (await Sut.UnwrapAsync(wrapped, CancellationToken.None)).Length.ShouldBe(32, "the KEK still works after a refusal");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(28)]
    [InlineData(12 + 16 + 16 * 1024 + 1)]
    public async Task UnwrapAsync_ImpossibleLength_IsRefused(int length)
    {
        var wrapped = await Sut.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { Ciphertext = new byte[length] }, CancellationToken.None));

        exception.Message.ShouldContain("impossible length");
    }

    [Fact]
    public async Task UnwrapAsync_TruncatedByOneByte_FailsAuthentication()
    {
        var wrapped = await Sut.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { Ciphertext = wrapped.Ciphertext[..^1] }, CancellationToken.None));

        exception.Message.ShouldContain("failed authentication");
    }

    [Fact]
    public async Task UnwrapAsync_OtherAlgorithm_IsRefused()
    {
        var wrapped = await Sut.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { Algorithm = "A256GCM" }, CancellationToken.None));

        exception.Message.ShouldBe("Unsupported wrapping algorithm 'A256GCM'; expected PKCS11-A256GCM.");
    }

    [Fact]
    public async Task UnwrapAsync_AnotherKeyOnTheSameToken_IsRefusedEvenUnderThisKeyId()
    {
        using var other = Kek(Token.Label, "kek-other");
        await other.CreateKeyAsync(CancellationToken.None);
        var wrapped = await other.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var byId = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped, CancellationToken.None));
        var forged = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { KeyId = Sut.KeyId }, CancellationToken.None));

        other.KeyId.ShouldNotBe(Sut.KeyId);
        byId.Message.ShouldContain(other.KeyId);
        byId.Message.ShouldContain(Sut.KeyId);
        forged.Message.ShouldContain("failed authentication");
    }

    [Fact]
    public async Task UnwrapAsync_AnotherTokenWithTheSameKeyLabel_IsRefused()
    {
        using var other = Kek(Token.OtherTokenLabel, "kek");
        await other.CreateKeyAsync(CancellationToken.None);
        var wrapped = await other.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var byId = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped, CancellationToken.None));
        var forged = await Should.ThrowAsync<KeyCustodyException>(() => Sut.UnwrapAsync(wrapped with { KeyId = Sut.KeyId }, CancellationToken.None));

        other.KeyId.ShouldStartWith("pkcs11:token=kek-main-other;object=kek;id=");
        byId.Message.ShouldContain(other.KeyId);
        forged.Message.ShouldContain("failed authentication");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16 * 1024)]
    public async Task WrapAsync_SmallestAndLargestDataKeys_RoundTrip(int length)
    {
        var dataKey = RandomNumberGenerator.GetBytes(length);

        var unwrapped = await Sut.UnwrapAsync(await Sut.WrapAsync(dataKey, CancellationToken.None), CancellationToken.None);

        unwrapped.ShouldBe(dataKey);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16 * 1024 + 1)]
    public async Task WrapAsync_EmptyOrTooLargeDataKey_IsRefused(int length)
    {
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => Sut.WrapAsync(new byte[length], CancellationToken.None));
    }

    [Fact]
    public async Task WrapAndUnwrap_200InParallel_AllGiveBackTheirOwnKey()
    {
        var dataKeys = Enumerable.Range(0, 200).Select(_ => RandomNumberGenerator.GetBytes(32)).ToList();

        var results = await Task.WhenAll(dataKeys.Select(k => Task.Run(async () =>
            await Sut.UnwrapAsync(await Sut.WrapAsync(k, CancellationToken.None), CancellationToken.None))));

        for (var i = 0; i < dataKeys.Count; i++)
        {
            results[i].ShouldBe(dataKeys[i]);
        }
    }

    [Fact]
    public async Task WrapAndUnwrap_ManyInParallel_ReportsThroughput()
    {
        const int count = 20_000;
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = await Sut.WrapAsync(dataKey, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, async (_, ct) => await Sut.WrapAsync(dataKey, ct));
        var wrapRate = count / watch.Elapsed.TotalSeconds;
        watch.Restart();
        await Parallel.ForAsync(0, count, async (_, ct) => (await Sut.UnwrapAsync(wrapped, ct)).ShouldBe(dataKey));
        var unwrapRate = count / watch.Elapsed.TotalSeconds;

        output.WriteLine($"{Environment.ProcessorCount} cores: {wrapRate:F0} wraps/s, {unwrapRate:F0} unwraps/s (SoftHSM2, 32-byte keys)");
        wrapRate.ShouldBeGreaterThan(500);
        unwrapRate.ShouldBeGreaterThan(500);
    }

    [Fact]
    public async Task EnsureReadyAsync_GoodConfiguration_Succeeds()
    {
        using var kek = Kek(Token.Label, "kek");

        await kek.EnsureReadyAsync(CancellationToken.None);

        kek.KeyId.ShouldBe(token.KeyId);
    }

    internal static Pkcs11KeyEncryptionKey Kek(string tokenLabel, string keyLabel, string pin = Pin) => new(
        new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = tokenLabel, Pin = pin, KeyLabel = keyLabel },
        NullLogger<Pkcs11KeyEncryptionKey>.Instance);
}
