using Compliance.Audit;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Decisions;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Lifecycle;
using Compliance.Consent.Receipts;
using Compliance.Data;
using Compliance.Jobs;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Microsoft.Extensions.Configuration;
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
    public static IServiceCollection AddComplianceConsent(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ConsentOptions>().Bind(configuration.GetSection(ConsentOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddComplianceAudit();
        services.AddComplianceModelPart<LedgerModelPart>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LedgerAppender>();
        services.TryAddScoped<LedgerSeal>();
        services.TryAddScoped<ConsentRecords>();
        services.TryAddScoped<IConsentLedger, ConsentLedger>();
        services.TryAddScoped<ILedgerRedaction, LedgerRedaction>();
        services.TryAddScoped<IPolicyReferences, LedgerPolicyReferences>();
        services.TryAddSingleton<LeafHashes>();
        services.TryAddSingleton<LedgerWitness>();
        services.TryAddScoped<LedgerCheckpoints>();
        services.TryAddScoped<ILedgerCheckpoints>(provider => provider.GetRequiredService<LedgerCheckpoints>());
        services.TryAddScoped<IConsentReceipts, ConsentReceipts>();
        services.TryAddScoped<ILedgerIntegrity, LedgerIntegrity>();
        services.AddRecurringWork<CheckpointWork>();
        services.AddRecurringWork<ConsentLifecycle>();

        // The consent screen and the account pages record through the OpenID provider's seams.
        services.Replace(ServiceDescriptor.Scoped<IConsentDecisions, LedgerConsentDecisions>());
        services.Replace(ServiceDescriptor.Scoped<IPatientConsents, PatientConsents>());
        return services;
    }
}
