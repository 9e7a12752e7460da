using Compliance.Audit;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Decisions;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Lifecycle;
using Compliance.Consent.Outbox;
using Compliance.Consent.Partners;
using Compliance.Consent.Receipts;
using Compliance.Data;
using Compliance.Jobs;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Compliance.Consent;

/// <summary>Registers the consent ledger.</summary>
public static class ConsentServiceCollectionExtensions
{
    /// <summary>
    /// Adds the ledger's tables to the compliance store and the <see cref="IConsentLedger"/> seam. Requires
    /// <c>AddComplianceData</c>, <c>AddComplianceKeys</c>, <c>AddCompliancePolicies</c> and <c>AddComplianceOidc</c>
    /// (the partners and their pairwise subjects). With <c>AddComplianceJobs</c>, the partners' webhooks are pushed
    /// (the <c>consent.webhook</c> due work, <see cref="OutboxOptions"/>). Safe to call twice.
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
        services.TryAddScoped<WithdrawalCascade>();
        services.TryAddSingleton<ConsentStateReader>();
        services.TryAddScoped<ConsentCheck>();
        services.TryAddScoped<PartnerConsentRecording>();
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

        // The partners' outbox: rows written with the leaves, pushed by the consent.webhook due work, pulled at /partner/v1/events.
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>());
        services.AddComplianceModelPart<OutboxModelPart>();
        services.TryAddScoped<OutboxEntries>();
        services.TryAddScoped<SecurityEventTokens>();
        services.TryAddScoped<IConsentOutbox, ConsentOutbox>();
        services.AddDueWork<WebhookDelivery>();
        services.AddWebhookHttp();

        // The consent screen and the account pages record through the OpenID provider's seams.
        services.Replace(ServiceDescriptor.Scoped<IConsentDecisions, LedgerConsentDecisions>());
        services.Replace(ServiceDescriptor.Scoped<IPatientConsents, PatientConsents>());
        return services;
    }
}
