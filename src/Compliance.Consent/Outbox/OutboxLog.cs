using Microsoft.Extensions.Logging;

namespace Compliance.Consent.Outbox;

/// <summary>The outbox's log events (4050–4069). Event ids, client ids, types and error codes only: never a sub, a URL or a body.</summary>
internal static partial class OutboxLog
{
    [LoggerMessage(EventId = 4050, EventName = "WebhookDelivered", Level = LogLevel.Information,
        Message = "Consent event {EventId} ({Type}) delivered to {ClientId} at attempt {Attempt}.")]
    public static partial void Delivered(ILogger logger, Guid eventId, string type, string clientId, int attempt);

    [LoggerMessage(EventId = 4051, EventName = "WebhookAttemptFailed", Level = LogLevel.Information,
        Message = "Consent event {EventId} to {ClientId}: attempt {Attempt} failed ({Error}); next at {NextAt:O}.")]
    public static partial void AttemptFailed(ILogger logger, Guid eventId, string clientId, int attempt, string error, DateTimeOffset nextAt);

    [LoggerMessage(EventId = 4052, EventName = "WebhookFailed", Level = LogLevel.Warning,
        Message = "Consent event {EventId} to {ClientId} could not be delivered after {Attempts} attempt(s) ({Error}); marked failed for operators (compliance outbox failed).")]
    public static partial void Failed(ILogger logger, Guid eventId, string clientId, int attempts, string error);

    [LoggerMessage(EventId = 4053, EventName = "WebhookNothingToDo", Level = LogLevel.Debug,
        Message = "Delivery of consent event {EventId}: nothing to do (unknown, finished, not due, or taken by another run).")]
    public static partial void NothingToDo(ILogger logger, Guid eventId);

    [LoggerMessage(EventId = 4054, EventName = "WebhookNudgeFailed", Level = LogLevel.Warning,
        Message = "Consent event {EventId} is saved but its delivery job could not be enqueued; the reconciler will enqueue it.")]
    public static partial void NudgeFailed(ILogger logger, Guid eventId, Exception exception);

    [LoggerMessage(EventId = 4055, EventName = "WebhookRetried", Level = LogLevel.Information,
        Message = "Consent event {EventId} to {ClientId}: failed delivery retried by an operator.")]
    public static partial void Retried(ILogger logger, Guid eventId, string clientId);

    [LoggerMessage(EventId = 4056, EventName = "WebhookAddressRefused", Level = LogLevel.Warning,
        Message = "A webhook of {ClientId} resolved to a private, loopback or link-local address; the connection was refused.")]
    public static partial void AddressRefused(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4057, EventName = "WebhookWithheld", Level = LogLevel.Information,
        Message = "Consent event {EventId} is withheld from payer {ClientId}: its purpose is one a payer never hears of under the policies in force; its feed row is deleted.")]
    public static partial void Withheld(ILogger logger, Guid eventId, string clientId);
}
