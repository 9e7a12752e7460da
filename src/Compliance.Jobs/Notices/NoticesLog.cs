using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Notices;

/// <summary>The notices' log messages (event ids 3050–3099). Kinds and notice ids only: never the account, never the facts.</summary>
internal static partial class NoticesLog
{
    [LoggerMessage(EventId = 3050, Level = LogLevel.Information, Message = "Notice {NoticeId} of {Kind} posted, due at {DueAt:O}.")]
    public static partial void Posted(ILogger logger, Guid noticeId, string kind, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Information, Message = "Notice {NoticeId} of {Kind} delivered.")]
    public static partial void Delivered(ILogger logger, Guid noticeId, string kind);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Debug, Message = "Delivery of notice {NoticeId}: nothing to do (unknown, already delivered, or not due yet).")]
    public static partial void NothingToDeliver(ILogger logger, Guid noticeId);

    [LoggerMessage(EventId = 3053, Level = LogLevel.Warning, Message = "Notice {NoticeId} is saved but its delivery job could not be enqueued; the reconciler will enqueue it.")]
    public static partial void NudgeFailed(ILogger logger, Guid noticeId, Exception exception);

    [LoggerMessage(EventId = 3054, Level = LogLevel.Information, Message = "Notice {NoticeId} posted inside the caller's transaction; the reconciler will enqueue its delivery once committed.")]
    public static partial void PostedInTransaction(ILogger logger, Guid noticeId);
}
