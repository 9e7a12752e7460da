using Compliance.Audit.Trail;
using Compliance.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Audit;

/// <summary>Registers the audit module.</summary>
public static class AuditServiceCollectionExtensions
{
    /// <summary>Adds the audit trail's entities to the pseudonymous store and the <see cref="IAuditTrail"/> seam. Safe to call twice.</summary>
    public static IServiceCollection AddComplianceAudit(this IServiceCollection services)
    {
        services.AddComplianceModelPart<AuditModelPart>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<IAuditTrail, AuditTrail>();
        return services;
    }
}
