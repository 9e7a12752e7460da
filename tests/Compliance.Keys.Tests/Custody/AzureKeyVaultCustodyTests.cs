using Compliance.Keys.Tests.AzureKeyVault;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.Tests.Custody;

/// <summary>
/// The key-custody suite on an Azure Key Vault KEK, against the local stand-in of the Key Vault keys REST API, signed
/// in with Azure.Identity's managed identity credential (App Service mode, pointed at the stand-in).
/// </summary>
[Collection(AzureKeyVaultTestGroup.Name)]
public sealed class AzureKeyVaultCustodyTests(SqliteStores stores, AzureKeyVaultCustodyTests.Vault vault)
    : KeyCustodyContract<SqliteStores>(stores), IClassFixture<SqliteStores>, IClassFixture<AzureKeyVaultCustodyTests.Vault>
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    /// <summary>One stand-in for the class, acting as the managed identity's token endpoint too.</summary>
    public sealed class Vault : IAsyncLifetime
    {
        private IDisposable? _identity;

        public KeyVaultStandIn StandIn { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            StandIn = await KeyVaultStandIn.StartAsync();
            _identity = StandIn.UseAsManagedIdentity();
        }

        public async Task DisposeAsync()
        {
            _identity?.Dispose();
            await StandIn.DisposeAsync();
        }
    }

    protected override Dictionary<string, string?> KekSettings(string name, string section) => new()
    {
        [$"{section}:Kek"] = "azure-key-vault",
        [$"{section}:AzureKeyVault:KeyId"] = vault.StandIn.KeyUrl($"kek-{name}-{_run}"),
        [$"{section}:AzureKeyVault:Region"] = "francecentral",
        [$"{section}:AzureKeyVault:Credential"] = "managed-identity",
        [$"{section}:AzureKeyVault:AllowLoopbackHttp"] = "true",
    };

    protected override Task CreateKekAsync(string name)
    {
        vault.StandIn.CreateKey($"kek-{name}-{_run}");
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RotateKek_ToANewVersionOfTheVaultKey_NeedsNoPreviousKeyAndRewrapsUnderTheNewVersion()
    {
        var before = await UseEverything(Node(KekSettings("a", "Keys")));
        var oldVersion = Kek(Node(KekSettings("a", "Keys"))).KeyId;
        vault.StandIn.AddVersion($"kek-a-{_run}");

        // The same settings (a key URL without a version): a node started now wraps with the newest version.
        var node = Node(KekSettings("a", "Keys"));
        var result = await node.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None);

        Kek(node).KeyId.ShouldNotBe(oldVersion);
        result.FromKekIds.ShouldBe([oldVersion]);
        result.Remaining.ShouldBe(0);
        (await node.GetRequiredService<IKekRotation>().TakeCensusAsync(CancellationToken.None)).WrappedByKek.Keys.ShouldBe([Kek(node).KeyId]);
        (await Node(KekSettings("a", "Keys")).GetRequiredService<IKeyedHash>().ComputeAsync("pairwise-subject", Data, CancellationToken.None)).ShouldBe(before.Hash);
    }

    [Fact]
    public async Task HostStart_RecordsTheVaultsRegionInTheAuditTrail()
    {
        var node = Node(KekSettings("a", "Keys"));

        await node.GetRequiredService<Compliance.Keys.Encryption.KekProvisioning>().EnsureAtStartAsync(mayCreate: false, CancellationToken.None);

        var row = (await AuditRows.ReadAsync(Stores.Compliance, Compliance.Audit.Trail.AuditEventTypes.KeyEncryptionKeyInUse.Id)).ShouldHaveSingleItem();
        var details = System.Text.Json.JsonDocument.Parse(row.Details!).RootElement;
        details.GetProperty("custody").GetString().ShouldBe("azure-key-vault");
        details.GetProperty("region").GetString().ShouldBe("francecentral");
        details.GetProperty("kek_id").GetString().ShouldBe(Kek(node).KeyId);
    }
}
