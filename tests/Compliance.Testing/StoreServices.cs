using Compliance.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Testing;

/// <summary>A service provider on a fixture's stores, with the modules a test adds.</summary>
public static class StoreServices
{
    public static ServiceProvider Build(StoreFixture stores, Action<IServiceCollection> modules)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(modules);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(stores.Settings).Build();
        var services = new ServiceCollection().AddLogging().AddComplianceData(configuration, gateStartup: false);
        modules(services);
        return services.BuildServiceProvider();
    }
}
