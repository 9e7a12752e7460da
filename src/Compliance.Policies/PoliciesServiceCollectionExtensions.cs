using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Compliance.Policies;

public static class PoliciesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the validated <see cref="PolicySet"/> as a singleton, read from the directory in
    /// the <c>Policies</c> configuration section (<see cref="PolicyOptions"/>), and a start-up check
    /// that loads it while the host starts: a malformed file stops the host with a
    /// <see cref="PolicyValidationException"/> naming each file, line and reason.
    /// Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddCompliancePolicies(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        if (services.Any(descriptor => descriptor.ServiceType == typeof(PolicySet)))
        {
            return services;
        }

        services.AddOptions<PolicyOptions>().Bind(configuration.GetSection(PolicyOptions.SectionName));
        services.TryAddSingleton(provider => PolicyLoader.Load(provider.GetRequiredService<IOptions<PolicyOptions>>().Value.ResolveDirectory()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PolicyStartupCheck>());
        return services;
    }
}
