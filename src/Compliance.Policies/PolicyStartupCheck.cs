using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compliance.Policies;

/// <summary>
/// Loads the policies while the host is starting, before any other hosted service (and so before
/// the web server) starts: a broken policy file stops the host instead of failing the first request.
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

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
