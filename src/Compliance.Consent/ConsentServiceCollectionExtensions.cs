using Compliance.Audit;
using Compliance.Consent.Ledger;
using Compliance.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Consent;

/// <summary>Registers the consent ledger.</summary>
public static class ConsentServiceCollectionExtensions
{
    /// <summary>
    /// Adds the ledger's tables to the compliance store and the <see cref="IConsentLedger"/> seam. Requires
    /// <c>AddComplianceData</c>, <c>AddComplianceKeys</c>, <c>AddCompliancePolicies</c> and <c>AddComplianceOidc</c>
    /// (the partners and their pairwise subjects). Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceConsent(this IServiceCollection services)
    {
        services.AddComplianceAudit();
        services.AddComplianceModelPart<LedgerModelPart>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LedgerAppender>();
        services.TryAddScoped<LedgerSeal>();
        services.TryAddScoped<ConsentRecords>();
        services.TryAddScoped<IConsentLedger, ConsentLedger>();
        services.TryAddScoped<ILedgerRedaction, LedgerRedaction>();
        return services;
    }
}
