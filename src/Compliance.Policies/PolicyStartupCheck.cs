using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compliance.Policies;

/// <summary>
/// Loads the policies while the host is starting, before any other hosted service (and so before
/// the web server) starts: a broken policy file stops the host instead of failing the first request.
/// Then, when an <see cref="IPolicyReferences"/> is registered (the consent ledger), refuses to start
/// with files that no longer declare a purpose or notice version that events reference; this runs
/// in <see cref="StartAsync"/>, after every start-up gate has migrated the stores, and before the web
/// server starts.
/// </summary>
internal sealed class PolicyStartupCheck(IServiceProvider services, ILogger<PolicyStartupCheck> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        try
        {
            var policies = services.GetRequiredService<PolicySet>();
            logger.PoliciesLoaded(policies.SourceDirectory, policies.Purposes.Count, policies.RetentionRules.Count, policies.Register.Count, policies.Fingerprint);
        }
        catch (PolicyValidationException exception)
        {
            // The errors name file, line and reason; a stack trace would add nothing for the operator.
            var errors = string.Join("; ", exception.Errors);
            logger.PoliciesInvalid(exception.Errors.Count, errors);
            throw;
        }

        return Task.CompletedTask;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var references = scope.ServiceProvider.GetService<IPolicyReferences>();
        if (references is null)
        {
            return;
        }

        var policies = services.GetRequiredService<PolicySet>();
        var referenced = await references.ReferencedAsync(cancellationToken);
        var errors = PolicyReferences.Check(policies, referenced);
        if (errors.Count > 0)
        {
            var lines = string.Join("; ", errors);
            logger.PolicyReferencesMissing(errors.Count, lines);
            throw new PolicyValidationException(errors);
        }

        logger.PolicyReferencesChecked(referenced.Count);
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
