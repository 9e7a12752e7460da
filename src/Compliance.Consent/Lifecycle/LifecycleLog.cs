using Microsoft.Extensions.Logging;

namespace Compliance.Consent.Lifecycle;

/// <summary>The lifecycle job's log events (4040–4049). Counts and stable codes only: never a subject or a purpose.</summary>
internal static partial class LifecycleLog
{
    [LoggerMessage(EventId = 4040, EventName = "ConsentLifecycleRecorded", Level = LogLevel.Information,
        Message = "Consent lifecycle: {Expired} expired and {Invalidated} invalidated consent(s) recorded, {Refused} refused by the ledger.")]
    public static partial void Recorded(ILogger logger, int expired, int invalidated, int refused);

    [LoggerMessage(EventId = 4041, EventName = "ConsentLifecycleEventRefused", Level = LogLevel.Warning,
        Message = "Consent lifecycle: the ledger refused an event ({Code}); that consent is tried again on the next run.")]
    public static partial void Refused(ILogger logger, string code, Exception exception);

    [LoggerMessage(EventId = 4042, EventName = "ConsentLifecycleBudgetSpent", Level = LogLevel.Information,
        Message = "Consent lifecycle: the run stopped after {Seconds} s with consents left; the next run goes on.")]
    public static partial void BudgetSpent(ILogger logger, int seconds);
}
