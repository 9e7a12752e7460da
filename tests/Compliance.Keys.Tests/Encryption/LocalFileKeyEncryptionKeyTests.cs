using System.Runtime.Versioning;
using System.Security.Cryptography;
using Compliance.Data.Storage;
using Compliance.Keys.Encryption;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Tests.Encryption;

// The service runs on Linux; the file modes are what this class checks.
[UnsupportedOSPlatform("windows")]
public sealed class LocalFileKeyEncryptionKeyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-kek-").FullName;

    private string KekPath => Path.Combine(_directory, "custody", "kek.key");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void KeyId_FirstUse_CreatesTheFileOwnerOnlyInAnOwnerOnlyFolder()
    {
        var kek = Kek(KekPath);

        _ = kek.KeyId;

        File.Exists(KekPath).ShouldBeTrue();
        File.GetUnixFileMode(KekPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(KekPath)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.GetFiles(Path.GetDirectoryName(KekPath)!).ShouldBe([KekPath], "no temporary file is left behind");
    }

    [Fact]
    public void KeyId_NoPathConfigured_UsesKekKeyInTheDataFolder()
    {
        var kek = new LocalFileKeyEncryptionKey(
            Options.Create(new KeysOptions()),
            Options.Create(new StorageOptions { DataDirectory = _directory }),
            NullLogger<LocalFileKeyEncryptionKey>.Instance);

        _ = kek.KeyId;

        File.Exists(Path.Combine(_directory, "kek.key")).ShouldBeTrue();
    }

    [Fact]
    public async Task UnwrapAsync_WhatWrapAsyncWrapped_ReturnsTheDataKey()
    {
        var kek = Kek(KekPath);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);
        var unwrapped = await kek.UnwrapAsync(wrapped, CancellationToken.None);

        unwrapped.ShouldBe(dataKey);
        wrapped.KeyId.ShouldBe(kek.KeyId);
        wrapped.Algorithm.ShouldBe("A256GCM");
        wrapped.Ciphertext.Length.ShouldBe(12 + 32 + 16);
        Contains(wrapped.Ciphertext, dataKey).ShouldBeFalse();
    }

    [Fact]
    public async Task WrapAsync_SameKeyTwice_GivesDifferentCiphertexts()
    {
        var kek = Kek(KekPath);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var first = await kek.WrapAsync(dataKey, CancellationToken.None);
        var second = await kek.WrapAsync(dataKey, CancellationToken.None);

        second.Ciphertext.ShouldNotBe(first.Ciphertext);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(12 + 32 + 15)]
    public async Task UnwrapAsync_TamperedCiphertext_ThrowsKeyCustodyExceptionWithoutTheBytes(int index)
    {
        var kek = Kek(KekPath);
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var tampered = (byte[])wrapped.Ciphertext.Clone();
        tampered[index] ^= 0x01;

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = tampered }, CancellationToken.None));

        exception.Message.ShouldContain("altered");
        exception.InnerException.ShouldBeNull();
        exception.Message.ShouldNotContain(Convert.ToBase64String(tampered));
        exception.Message.ShouldNotContain(Convert.ToHexString(tampered), Case.Insensitive);
    }

    [Fact]
    public async Task UnwrapAsync_TruncatedCiphertext_ThrowsKeyCustodyException()
    {
        var kek = Kek(KekPath);
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = wrapped.Ciphertext[..20] }, CancellationToken.None));
    }

    [Fact]
    public async Task UnwrapAsync_OtherKeyId_ThrowsKeyCustodyExceptionNamingBothKeys()
    {
        var kek = Kek(KekPath);
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { KeyId = "local:000000000000000000000000" }, CancellationToken.None));

        exception.Message.ShouldContain("local:000000000000000000000000");
        exception.Message.ShouldContain(kek.KeyId);
    }

    [Fact]
    public async Task UnwrapAsync_OtherAlgorithm_ThrowsKeyCustodyException()
    {
        var kek = Kek(KekPath);
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Algorithm = "A128KW" }, CancellationToken.None));
    }

    [Fact]
    public async Task UnwrapAsync_SecondInstanceOnTheSameFile_UnwrapsWhatTheFirstWrapped()
    {
        var first = Kek(KekPath);
        var dataKey = RandomNumberGenerator.GetBytes(48);
        var wrapped = await first.WrapAsync(dataKey, CancellationToken.None);

        var second = Kek(KekPath);
        var unwrapped = await second.UnwrapAsync(wrapped, CancellationToken.None);

        unwrapped.ShouldBe(dataKey);
        second.KeyId.ShouldBe(first.KeyId);
    }

    [Fact]
    public async Task UnwrapAsync_AnotherKeyFile_CannotUnwrapAndHasAnotherKeyId()
    {
        var first = Kek(KekPath);
        var wrapped = await first.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        var other = Kek(Path.Combine(_directory, "other.key"));

        other.KeyId.ShouldNotBe(first.KeyId);
        await Should.ThrowAsync<KeyCustodyException>(() => other.UnwrapAsync(wrapped, CancellationToken.None));
        await Should.ThrowAsync<KeyCustodyException>(() => other.UnwrapAsync(wrapped with { KeyId = other.KeyId }, CancellationToken.None));
    }

    [Fact]
    public void KeyId_SameFile_IsStableAndNotTheKey()
    {
        var keyId = Kek(KekPath).KeyId;
        var key = File.ReadAllLines(KekPath)[1];

        Kek(KekPath).KeyId.ShouldBe(keyId);
        keyId.ShouldMatch("^local:[0-9a-f]{24}$");
        keyId.ShouldNotContain(key);
    }

    [Fact]
    public void KeyId_ManyInstancesCreatingAtOnce_AllHoldTheSameKey()
    {
        // Repeated, because the race it guards against (a check-then-rename that replaced a key another node already
        // used) lost only now and then.
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(_directory, $"race-{round}", "kek.key");
            var keks = Enumerable.Range(0, 8).Select(_ => Kek(path)).ToList();
            var keyIds = new string[keks.Count];
            using var start = new Barrier(keks.Count);
            var threads = keks.Select((kek, i) => new Thread(() =>
            {
                start.SignalAndWait();
                keyIds[i] = kek.KeyId;
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            keyIds.Distinct().Count().ShouldBe(1, $"round {round}");
            keyIds[0].ShouldBe(Kek(path).KeyId, "the key on disk is the one every instance used");
            Directory.GetFiles(Path.GetDirectoryName(path)!).ShouldBe([path]);
        }
    }

    [Fact]
    public void KeyId_FileReadableByOthers_IsRefusedNamingTheSetting()
    {
        _ = Kek(KekPath).KeyId;
        File.SetUnixFileMode(KekPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var exception = Should.Throw<KeyCustodyException>(() => Kek(KekPath).KeyId);

        exception.Message.ShouldContain("Keys:LocalKekPath");
        exception.Message.ShouldContain("chmod 600");
    }

    [Fact]
    public void KeyId_CorruptFile_IsRefusedAndNeverReplaced()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(KekPath)!);
        File.WriteAllText(KekPath, "compliance-local-kek v1\nnot-base64\n");
        File.SetUnixFileMode(KekPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var exception = Should.Throw<KeyCustodyException>(() => Kek(KekPath).KeyId);

        exception.Message.ShouldContain("Keys:LocalKekPath");
        exception.Message.ShouldNotContain("not-base64");
        File.ReadAllText(KekPath).ShouldBe("compliance-local-kek v1\nnot-base64\n");
    }

    [Fact]
    public void ToString_WrappedKey_ShowsNoBytes()
    {
        var wrapped = new WrappedKey("local:1", "A256GCM", [0xAB, 0xCD, 0xEF]);

        var text = wrapped.ToString();

        text.ShouldContain("local:1");
        text.ShouldNotContain("AB", Case.Sensitive);
        text.ShouldNotContain("171");
    }

    private static LocalFileKeyEncryptionKey Kek(string path) => new(
        Options.Create(new KeysOptions { LocalKekPath = path }),
        Options.Create(new StorageOptions()),
        NullLogger<LocalFileKeyEncryptionKey>.Instance);

    internal static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}
