using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs;

/// <summary>The <c>Jobs</c> settings: where jobs are stored, whether this node runs them, how often it reconciles.</summary>
public sealed partial class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>This node runs a Hangfire server (workers). Off on a node that only serves HTTP.</summary>
    public bool Server { get; set; } = true;

    /// <summary>This node runs jobs and serves no HTTP at all (a worker-only node). Needs <see cref="Server"/>.</summary>
    public bool WorkerOnly { get; set; }

    /// <summary>Workers of this node's job server.</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>PostgreSQL: the schema of the job store, in the compliance database unless <see cref="ConnectionString"/> is set.</summary>
    public string Schema { get; set; } = "hangfire";

    /// <summary>PostgreSQL: a database of its own for the job store. Empty: the compliance database.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>When the reconciler runs (Hangfire cron; six fields for seconds). Every minute by default.</summary>
    public string ReconcileCron { get; set; } = "* * * * *";

    /// <summary>How long an enqueued item is left to its job before the reconciler enqueues it again.</summary>
    public int EnqueuedLeaseSeconds { get; set; } = 300;

    /// <summary>Most items of one kind the reconciler enqueues per pass; the next pass takes the rest.</summary>
    public int ReconcileBatch { get; set; } = 1000;

    /// <summary>
    /// PostgreSQL: a job-store lock older than this is taken to belong to a node that died holding it (killed, or its
    /// machine lost) and is removed. Hangfire holds its locks for moments, and our jobs take none, so this bounds how
    /// long a crash can stall the survivors' schedulers. Hangfire's default is ten minutes.
    /// </summary>
    public int LockTimeoutSeconds { get; set; } = 60;

    /// <summary>A job server whose last heartbeat is older than this is reported not ready.</summary>
    public int HeartbeatToleranceSeconds { get; set; } = 90;

    /// <summary>The staff administrators' dashboard.</summary>
    public string DashboardPath { get; set; } = "/staff/jobs";

    internal TimeSpan EnqueuedLease => TimeSpan.FromSeconds(EnqueuedLeaseSeconds);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    internal static partial Regex SchemaName();

    [GeneratedRegex(@"^[0-9*/,-]+( [0-9*/,-]+){4,5}$", RegexOptions.CultureInvariant)]
    internal static partial Regex CronShape();

    [GeneratedRegex("^/[a-z0-9/_-]{1,100}$", RegexOptions.CultureInvariant)]
    internal static partial Regex PathShape();
}

internal sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobsOptions options)
    {
        List<string> failures = [];
        if (options.WorkerOnly && !options.Server)
        {
            failures.Add("Jobs:WorkerOnly=true needs Jobs:Server=true: a node that serves no HTTP and runs no job does nothing.");
        }

        if (options.WorkerCount is < 1 or > 64)
        {
            failures.Add($"Jobs:WorkerCount must be between 1 and 64, not {options.WorkerCount}.");
        }

        if (!JobsOptions.SchemaName().IsMatch(options.Schema))
        {
            failures.Add("Jobs:Schema must be a lower-case PostgreSQL identifier (letters, digits, underscore).");
        }

        if (!JobsOptions.CronShape().IsMatch(options.ReconcileCron))
        {
            failures.Add($"Jobs:ReconcileCron '{options.ReconcileCron}' is not a cron expression.");
        }

        if (options.EnqueuedLeaseSeconds is < 1 or > 86_400)
        {
            failures.Add("Jobs:EnqueuedLeaseSeconds must be between 1 and 86400.");
        }

        if (options.ReconcileBatch is < 1 or > 100_000)
        {
            failures.Add("Jobs:ReconcileBatch must be between 1 and 100000.");
        }

        if (options.LockTimeoutSeconds is < 5 or > 3_600)
        {
            failures.Add("Jobs:LockTimeoutSeconds must be between 5 and 3600.");
        }

        if (options.HeartbeatToleranceSeconds is < 10 or > 3_600)
        {
            failures.Add("Jobs:HeartbeatToleranceSeconds must be between 10 and 3600.");
        }

        if (!JobsOptions.PathShape().IsMatch(options.DashboardPath) || options.DashboardPath.EndsWith('/'))
        {
            failures.Add("Jobs:DashboardPath must be a path such as /staff/jobs (lower case, no trailing slash).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
