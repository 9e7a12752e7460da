using Compliance.Data.Health;
using Compliance.Data.Migrations;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Compliance.Data;

/// <summary>Registers the two stores.</summary>
public static class DataServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <see cref="StorageOptions"/>, registers <see cref="ComplianceDbContext"/>, and the
    /// readiness checks of both stores. With <paramref name="gateStartup"/>, the host also migrates or verifies both
    /// schemas before it serves anything. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceData(this IServiceCollection services, IConfiguration configuration, bool gateStartup = true)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(DataMarker)))
        {
            return services;
        }

        services.AddSingleton<DataMarker>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        // Pooled: the hot paths (code exchange, refresh) would otherwise build a context's services on every request.
        services.AddDbContextPool<ComplianceDbContext>((provider, options) =>
        {
            options.UseStore(provider.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionFor(Store.Compliance));
            ((IDbContextOptionsBuilderInfrastructure)options).AddOrUpdateExtension(new ModelPartsExtension(provider.GetServices<IComplianceModelPart>()));
        });

        if (gateStartup)
        {
            services.AddHostedService<SchemaStartupGate>();
        }

        services.AddHealthChecks()
            .AddTypeActivatedCheck<StoreHealthCheck>("compliance-store", HealthStatus.Unhealthy, ["ready"], Store.Compliance)
            .AddTypeActivatedCheck<StoreHealthCheck>("vault-store", HealthStatus.Unhealthy, ["ready"], Store.Vault);
        return services;
    }

    /// <summary>Adds a module's entities to the pseudonymous store's model. Safe to call twice.</summary>
    public static IServiceCollection AddComplianceModelPart<TPart>(this IServiceCollection services)
        where TPart : class, IComplianceModelPart
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IComplianceModelPart, TPart>());
        return services;
    }

    /// <summary>Creates the migrator of one store from the configured storage.</summary>
    public static SchemaMigrator CreateMigrator(this IServiceProvider services, Store store)
    {
        ArgumentNullException.ThrowIfNull(services);
        return ActivatorUtilities.CreateInstance<SchemaMigrator>(
            services, services.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionFor(store));
    }

    private sealed class DataMarker;
}
