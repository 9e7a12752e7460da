using Compliance.Audit;
using Compliance.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Jobs.Notices;

/// <summary>Registers the patient notices.</summary>
public static class NoticesServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>notices</c> table to the compliance store, the <see cref="INotices"/> seam and the
    /// <c>notice.delivery</c> due work that delivers them (and writes <c>notice.delivered</c> audit rows). Requires
    /// <c>AddComplianceData</c> and <c>AddComplianceJobs</c> (the job scheduler and its lease). Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceNotices(this IServiceCollection services)
    {
        services.AddComplianceAudit();
        services.AddComplianceModelPart<NoticesModelPart>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<INotices, NoticeBoard>();
        services.AddDueWork<NoticeDelivery>();
        return services;
    }
}
