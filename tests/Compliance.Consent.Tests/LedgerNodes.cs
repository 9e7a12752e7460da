using Compliance.Consent.Ledger;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Consent.Tests;

/// <summary>
/// Service providers on one class's stores, each standing for a node: the keys, the policies of <c>policies/</c>, the
/// OpenID provider (partners and pairwise subjects) and the consent ledger. Disposed with the test.
/// </summary>
public sealed class LedgerNodes(StoreFixture stores) : IAsyncDisposable
{
    private readonly List<ServiceProvider> _nodes = [];

    public ServiceProvider Node(IReadOnlyDictionary<string, string?>? extra = null, TimeProvider? clock = null)
    {
        var settings = new Dictionary<string, string?>(stores.Settings)
        {
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var node = StoreServices.Build(stores, services =>
        {
            services.AddCompliancePolicies(configuration);
            services.AddComplianceKeys(configuration).AddComplianceOidc(configuration).AddComplianceConsent(configuration);
            if (clock is not null)
            {
                services.Replace(ServiceDescriptor.Singleton(clock));
            }
        });
        _nodes.Add(node);
        return node;
    }

    /// <summary>Registers a confidential partner with the given client id, once per class's stores.</summary>
    public static async Task<string> PartnerAsync(IServiceProvider node, string clientId)
    {
        await using var scope = node.CreateAsyncScope();
        var clients = scope.ServiceProvider.GetRequiredService<ClientAdministration>();
        if (await clients.FindAsync(clientId, CancellationToken.None) is null)
        {
            await clients.AddAsync(
                new ClientRequest(clientId, "Partenaire " + clientId, ClientTypes.Confidential, ClientAuthMethods.SecretBasic,
                    [$"https://{clientId}.example/cb"], [], ["openid"], ["authorization_code"]),
                CancellationToken.None);
        }

        return clientId;
    }

    public static async Task<T> InScopeAsync<T>(IServiceProvider node, Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = node.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public static Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IServiceProvider node, params ConsentEventDraft[] drafts) =>
        InScopeAsync(node, services => services.GetRequiredService<IConsentLedger>().AppendAsync(drafts, CancellationToken.None));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
