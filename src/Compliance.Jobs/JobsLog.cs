using Microsoft.Extensions.Logging;

namespace Compliance.Jobs;

/// <summary>The jobs module's log messages (event ids 3000–3049; notices use 3050–3099).</summary>
internal static partial class JobsLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Reconciler enqueued {Count} due item(s) of {Kind}, and left {Waiting} whose job still waits in the job store (first pass after start: {FirstPass}).")]
    public static partial void Reconciled(ILogger logger, string kind, int count, int waiting, bool firstPass);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Job store: {Store}; job server on this node: {Server}; worker-only: {WorkerOnly}.")]
    public static partial void Started(ILogger logger, Store.JobStoreSettings store, bool server, bool workerOnly);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Job {JobId} of {Kind} failed and will be retried (attempt {Attempt}).")]
    public static partial void Retrying(ILogger logger, string jobId, string kind, int attempt);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Job {JobId} of {Kind} failed for good after its retries: {Reason}.")]
    public static partial void FailedForGood(ILogger logger, string jobId, string kind, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Job store schema {Schema}: installed version {Version} ({Applied}).")]
    public static partial void JobStoreMigrated(ILogger logger, string schema, int version, string applied);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The reconciler's first pass after start failed ({Error}); the recurring pass will retry.")]
    public static partial void FirstPassFailed(ILogger logger, string error);
}
