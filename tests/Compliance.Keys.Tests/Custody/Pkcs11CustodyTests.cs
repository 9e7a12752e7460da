using Compliance.Keys.Pkcs11;
using Compliance.Testing;
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
}
