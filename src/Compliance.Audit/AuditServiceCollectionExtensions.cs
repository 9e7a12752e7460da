using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Audit;

/// <summary>Registers the audit module.</summary>
public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Adds the audit trail's entities to the pseudonymous store, the <see cref="IAuditTrail"/> seam, the actor this
    /// process writes (<see cref="AuditActor.Server"/> unless an <see cref="IAuditActor"/> was registered before, as the
    /// CLI does) and the record of start-up migrations. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceAudit(this IServiceCollection services)
    {
        services.AddComplianceModelPart<AuditModelPart>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<IAuditTrail, AuditTrail>();
        services.TryAddSingleton(_ => AuditActor.Server());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISchemaMigrationRecorder, SchemaMigrationAudit>());
        return services;
    }
}
