using Compliance.Keys.Tests.AzureKeyVault;
using Compliance.Testing;

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
}
