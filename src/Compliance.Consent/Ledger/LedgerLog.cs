using Microsoft.Extensions.Logging;

namespace Compliance.Consent.Ledger;

/// <summary>The ledger's log events (4000–4049). Ids, counts and sizes only: never a subject, purpose or state.</summary>
internal static partial class LedgerLog
{
    [LoggerMessage(EventId = 4000, EventName = "ConsentEventsAppended", Level = LogLevel.Debug,
        Message = "Appended {Count} consent event(s); the ledger holds {Size}.")]
    public static partial void Appended(ILogger logger, int count, long size);

    [LoggerMessage(EventId = 4001, EventName = "ConsentBatchRetriedAlone", Level = LogLevel.Warning,
        Message = "A batch of {Count} consent appends failed; each is tried again alone.")]
    public static partial void BatchRetriedAlone(ILogger logger, int count, Exception exception);
}
