using Compliance.Keys.Pkcs11;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Keys.Tests.Custody;

/// <summary>The key-custody suite on a PKCS#11 KEK: a non-extractable AES key in a real SoftHSM2 token.</summary>
public sealed class Pkcs11CustodyTests(SqliteStores stores, Pkcs11CustodyTests.Token token)
    : KeyCustodyContract<SqliteStores>(stores), IClassFixture<SqliteStores>, IClassFixture<Pkcs11CustodyTests.Token>
{
    // Each test creates its own keys on the class's token: labels are unique per test.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    /// <summary>One token for the class.</summary>
    public sealed class Token
    {
        public const string Label = "custody-suite";
        public const string Pin = "custody-pin-1234";

        public Token() => SoftHsm.Instance.InitToken(Label, Pin);
    }

    protected override Dictionary<string, string?> KekSettings(string name, string section) => new()
    {
        [$"{section}:Kek"] = "pkcs11",
        [$"{section}:Pkcs11:ModulePath"] = SoftHsm.ModulePath,
        [$"{section}:Pkcs11:TokenLabel"] = Token.Label,
        [$"{section}:Pkcs11:Pin"] = Token.Pin,
        [$"{section}:Pkcs11:KeyLabel"] = $"kek-{name}-{_run}",
    };

    protected override async Task CreateKekAsync(string name)
    {
        _ = token;
        using var kek = new Pkcs11KeyEncryptionKey(
            new Pkcs11KekOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = Token.Label, Pin = Token.Pin, KeyLabel = $"kek-{name}-{_run}" },
            NullLogger<Pkcs11KeyEncryptionKey>.Instance);
        await kek.CreateKeyAsync(CancellationToken.None);
    }

    [Fact]
    public async Task RotateKek_FromALocalFileToTheToken_RewrapsEverythingAndTheFileIsNoLongerNeeded()
    {
        var file = new Dictionary<string, string?> { ["Keys:Kek"] = "local", ["Keys:LocalKekPath"] = Path.Combine(Directory, "old.key") };
        var before = await UseEverything(Node(file));
        var rotating = KekSettings("a", "Keys");
        rotating["Keys:Previous:Kek"] = "local";
        rotating["Keys:Previous:LocalKekPath"] = file["Keys:LocalKekPath"];

        var result = await Node(rotating).GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None);

        result.Remaining.ShouldBe(0);
        result.FromKekIds.ShouldHaveSingleItem().ShouldStartWith("local:");
        File.Delete(file["Keys:LocalKekPath"]!);
        var token = Node(KekSettings("a", "Keys"));
        await token.GetRequiredService<Compliance.Keys.Encryption.KekProvisioning>().EnsureAtStartAsync(mayCreate: false, CancellationToken.None);
        (await token.GetRequiredService<IKeyedHash>().ComputeAsync("pairwise-subject", Data, CancellationToken.None)).ShouldBe(before.Hash);
        (await token.GetRequiredService<ISigningKeys>().GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(before.SigningKid);
        System.Text.Encoding.UTF8.GetString(Protector(token).Unprotect(before.Cookie)).ShouldBe("session");
    }
}
