using Hangfire;

namespace Compliance.Jobs.Work;

/// <summary>
/// The one job that runs due work: it looks up the kind and lets it move the item forward. Its arguments, stored in
/// the job store, are a kind name and an id, never personal data.
/// </summary>
public sealed class DueWorkJob(IEnumerable<IDueWork> kinds)
{
    [AutomaticRetry(Attempts = 10, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("{0} {1}")]
    public Task RunAsync(string kind, Guid id, CancellationToken cancellationToken)
    {
        // An unknown kind is a build that no longer has it: fail loudly, the row stays due and visible in metrics.
        var work = kinds.FirstOrDefault(k => k.Kind == kind)
            ?? throw new InvalidOperationException($"No due work of kind '{kind}' is registered on this node.");
        return work.RunAsync(id, cancellationToken);
    }
}
