using Compliance.Keys.Pkcs11;
using Compliance.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Keys.Tests.Pkcs11;

/// <summary>
/// What the host hears at start-up when the PKCS#11 configuration or the token is wrong. Each test has its own token:
/// a login lasts for the whole process on a token, so a token already opened would accept any PIN.
/// </summary>
public sealed class Pkcs11KeyEncryptionKeyRefusalTests : IDisposable
{
    private const string Pin = "refusal-pin-9876";
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-pkcs11-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task EnsureReadyAsync_WrongPin_IsRefusedNamingThePinSettingWithoutThePin()
    {
        var token = await TokenWithKey("refuse-wrong-pin");
        using var kek = Kek(token, pin: "wrong-pin-5555");

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:Pin");
        message.ShouldContain("CKR_PIN_INCORRECT");
        message.ShouldNotContain("wrong-pin-5555");
        message.ShouldNotContain(Pin);
    }

    [Fact]
    public async Task EnsureReadyAsync_WrongPinInPinFile_IsRefusedNamingPinFile()
    {
        var token = await TokenWithKey("refuse-wrong-pinfile");
        var pinFile = PinFile("wrong-pin-7777\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var kek = Kek(token, pinFile: pinFile);

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:PinFile");
        message.ShouldNotContain("wrong-pin-7777");
    }

    [Fact]
    public async Task EnsureReadyAsync_PinFileWithTrailingNewline_Succeeds()
    {
        var token = await TokenWithKey("pinfile-ok");
        using var kek = Kek(token, pinFile: PinFile(Pin + "\n", UnixFileMode.UserRead));

        await kek.EnsureReadyAsync(CancellationToken.None);

        kek.KeyId.ShouldStartWith("pkcs11:token=pinfile-ok;object=kek;id=");
    }

    [Fact]
    public async Task EnsureReadyAsync_PinFileReadableByOthers_IsRefusedBeforeReadingIt()
    {
        var token = await TokenWithKey("refuse-open-pinfile");
        var pinFile = PinFile(Pin + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var kek = Kek(token, pinFile: pinFile);

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:PinFile");
        message.ShouldContain("chmod 600");
        message.ShouldNotContain(Pin);
    }

    [Fact]
    public async Task EnsureReadyAsync_UnknownTokenLabel_IsRefusedNamingTokenLabel()
    {
        await TokenWithKey("refuse-known-token");
        using var kek = Kek("no-such-token");

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:TokenLabel");
        message.ShouldContain("'no-such-token'");
        message.ShouldNotContain(Pin);
    }

    [Fact]
    public async Task EnsureReadyAsync_UnknownSlot_IsRefusedNamingSlot()
    {
        using var kek = new Pkcs11KeyEncryptionKey(
            new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, Slot = 999_999, Pin = Pin, KeyLabel = "kek" },
            NullLogger<Pkcs11KeyEncryptionKey>.Instance);

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:Slot");
    }

    [Fact]
    public async Task EnsureReadyAsync_MissingKeyLabel_IsRefusedNamingKeyLabel()
    {
        var token = await TokenWithKey("refuse-missing-key");
        using var kek = Kek(token, keyLabel: "absent");

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:KeyLabel");
        message.ShouldContain("no secret key labelled 'absent'");
    }

    [Theory]
    [InlineData(true, true, "extractable")]
    [InlineData(false, false, "non-sensitive")]
    public async Task EnsureReadyAsync_KeyThatCanLeaveTheToken_IsRefused(bool sensitive, bool extractable, string name)
    {
        var token = $"refuse-{name}";
        SoftHsm.Instance.InitToken(token, Pin);
        SoftHsm.Instance.CreateAesKey(token, Pin, "kek", sensitive, extractable);
        using var kek = Kek(token);

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:KeyLabel");
        message.ShouldContain("not sensitive and non-extractable");
        message.ShouldContain($"CKA_SENSITIVE={sensitive}, CKA_EXTRACTABLE={extractable}");
    }

    [Fact]
    public async Task EnsureReadyAsync_TwoKeysWithOneLabel_IsRefused()
    {
        const string token = "refuse-two-keys";
        SoftHsm.Instance.InitToken(token, Pin);
        SoftHsm.Instance.CreateAesKey(token, Pin, "kek");
        SoftHsm.Instance.CreateAesKey(token, Pin, "kek");
        using var kek = Kek(token);

        var message = await Refusal(kek);

        message.ShouldContain("Keys:Pkcs11:KeyLabel");
        message.ShouldContain("holds 2 secret keys labelled 'kek'");
    }

    [Fact]
    public async Task EnsureReadyAsync_MissingModuleFile_IsRefusedNamingModulePath()
    {
        var missing = Path.Combine(_directory, "libmissing.so");
        using var kek = new Pkcs11KeyEncryptionKey(
            new Pkcs11KekOptions { ModulePath = missing, TokenLabel = "any", Pin = Pin, KeyLabel = "kek" },
            NullLogger<Pkcs11KeyEncryptionKey>.Instance);

        var message = await Refusal(kek);

        message.ShouldBe($"Keys:Pkcs11:ModulePath: the PKCS#11 module '{missing}' does not exist.");
    }

    [Fact]
    public async Task EnsureReadyAsync_ModuleThatIsNotALibrary_IsRefusedNamingModulePath()
    {
        var notALibrary = Path.Combine(_directory, "libfake.so");
        await File.WriteAllTextAsync(notALibrary, "not an ELF file");
        using var kek = new Pkcs11KeyEncryptionKey(
            new Pkcs11KekOptions { ModulePath = notALibrary, TokenLabel = "any", Pin = Pin, KeyLabel = "kek" },
            NullLogger<Pkcs11KeyEncryptionKey>.Instance);

        var message = await Refusal(kek);

        message.ShouldStartWith($"Keys:Pkcs11:ModulePath: the PKCS#11 module '{notALibrary}' cannot be loaded");
    }

    [Fact]
    public void Constructor_InvalidOptions_IsRefusedNamingEverySetting()
    {
        var exception = Should.Throw<KeyCustodyException>(() => new Pkcs11KeyEncryptionKey(
            new Pkcs11KekOptions { ModulePath = "libsofthsm2.so", TokenLabel = "t", Slot = 1, Pin = Pin, PinFile = "/p" },
            NullLogger<Pkcs11KeyEncryptionKey>.Instance));

        exception.Message.ShouldNotContain("\n");
        exception.Message.ShouldNotContain(Pin);
        exception.Message.ShouldContain("Keys:Pkcs11:ModulePath must be the absolute path");
        exception.Message.ShouldContain("exactly one of TokenLabel and Slot");
        exception.Message.ShouldContain("exactly one of Pin and PinFile");
        exception.Message.ShouldContain("Keys:Pkcs11:KeyLabel is required");
    }

    [Fact]
    public void Problems_ValidOptions_AreNone()
    {
        var options = new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = "t", PinFile = "/run/secrets/pin", KeyLabel = "kek" };

        options.Problems("Keys:Pkcs11").ShouldBeEmpty();
    }

    [Theory]
    [InlineData("a-token-label-longer-than-32-bytes")]
    [InlineData(" padded")]
    [InlineData("line\nbreak")]
    public void Problems_BadTokenLabel_NamesTokenLabel(string label)
    {
        var options = new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = label, Pin = Pin, KeyLabel = "kek" };

        options.Problems("Keys:Pkcs11").ShouldHaveSingleItem().ShouldStartWith("Keys:Pkcs11:TokenLabel must be");
    }

    private static async Task<string> Refusal(Pkcs11KeyEncryptionKey kek)
    {
        var exception = await Should.ThrowAsync<KeyCustodyException>(() => kek.EnsureReadyAsync(CancellationToken.None));
        exception.Message.ShouldNotContain("\n");
        exception.Message.ShouldNotContain("\r");
        return exception.Message;
    }

    private static async Task<string> TokenWithKey(string label)
    {
        SoftHsm.Instance.InitToken(label, Pin);
        using var creator = Kek(label);
        await creator.CreateKeyAsync(CancellationToken.None);
        return label;
    }

    private string PinFile(string content, UnixFileMode mode)
    {
        var path = Path.Combine(_directory, $"pin-{Guid.NewGuid():N}");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static Pkcs11KeyEncryptionKey Kek(string token, string? pin = Pin, string? pinFile = null, string keyLabel = "kek") => new(
        new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = token, Pin = pinFile is null ? pin : null, PinFile = pinFile, KeyLabel = keyLabel },
        NullLogger<Pkcs11KeyEncryptionKey>.Instance);
}
