using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Policies;

namespace Compliance.Server.Policies;

/// <summary>
/// Once the stores are ready, records in the audit trail that a new policy set is in force, when its fingerprint
/// differs from the last one recorded, so that a DPO can prove which purposes and retention rules applied when.
/// </summary>
internal sealed class PolicyActivationRecord(IServiceScopeFactory scopes) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: a broken policy file must fail in the policies' own start-up check.
        await using var scope = scopes.CreateAsyncScope();
        var policies = scope.ServiceProvider.GetRequiredService<PolicySet>();
        var trail = scope.ServiceProvider.GetRequiredService<IAuditTrail>();
        var last = await trail.FindLatestAsync(AuditEventTypes.PolicySetActivated, cancellationToken);
        var details = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["fingerprint"] = policies.Fingerprint,
            ["purposes"] = policies.Purposes.Count,
            ["retentionRules"] = policies.RetentionRules.Count,
        });
        if (last?.Details is null || !last.Details.Contains(policies.Fingerprint, StringComparison.Ordinal))
        {
            await trail.RecordAsync(AuditEventTypes.PolicySetActivated, scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null, details, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class PolicyActivationRecordExtensions
{
    public static IServiceCollection AddPolicyActivationRecord(this IServiceCollection services) =>
        services.AddHostedService<PolicyActivationRecord>();
}
