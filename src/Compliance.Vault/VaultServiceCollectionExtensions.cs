using Compliance.Data.Model;
using Compliance.Data.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Vault;

/// <summary>Registers the civil identity vault.</summary>
public static class VaultServiceCollectionExtensions
{
    /// <summary>Registers <see cref="VaultDbContext"/> on the vault store. Requires <c>AddComplianceData</c>. Safe to call twice.</summary>
    public static IServiceCollection AddComplianceVault(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(VaultDbContext)))
        {
            return services;
        }

        services.AddDbContext<VaultDbContext>((provider, options) =>
            options.UseStore(provider.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionFor(Store.Vault)));
        return services;
    }
}
