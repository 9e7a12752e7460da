namespace Compliance.Jobs.Notices;

/// <summary>
/// What a notice says, as structured facts only: a kind, and the partner's client id, a request's reference or dates
/// where the kind needs them. Never a civil identity, never free text: the page words each kind itself, in the patient's
/// language. Built only through the factory of each kind, which checks that the facts fit it.
/// </summary>
public sealed record NoticeFacts
{
    private NoticeFacts(NoticeKind kind, string? clientId, Guid? requestId, DateTimeOffset? occurredAt, DateTimeOffset? deadlineAt)
    {
        Kind = kind;
        ClientId = clientId;
        RequestId = requestId;
        OccurredAt = occurredAt?.ToUniversalTime();
        DeadlineAt = deadlineAt?.ToUniversalTime();
    }

    public NoticeKind Kind { get; }

    /// <summary>The partner concerned (<see cref="NoticeKind.PartnerErasure"/>; <see cref="NoticeKind.BreakGlassAccess"/> when known): a client id, never a name.</summary>
    public string? ClientId { get; }

    /// <summary>The reference of the data-subject request (the <c>Request*</c> kinds).</summary>
    public Guid? RequestId { get; }

    /// <summary>When it happened: the emergency access, the completion, the erasure. UTC.</summary>
    public DateTimeOffset? OccurredAt { get; }

    /// <summary>The deadline of the answer (<see cref="NoticeKind.RequestReceived"/>), or the new one (<see cref="NoticeKind.RequestExtended"/>). UTC.</summary>
    public DateTimeOffset? DeadlineAt { get; }

    /// <summary>A break-glass access to the civil identity, at <paramref name="accessedAt"/>, through <paramref name="clientId"/> when the partner is known.</summary>
    public static NoticeFacts BreakGlassAccess(string? clientId, DateTimeOffset accessedAt) =>
        new(NoticeKind.BreakGlassAccess, clientId is null ? null : CheckedClientId(clientId), null, accessedAt, null);

    /// <summary>A request received, to be answered by <paramref name="deadline"/>.</summary>
    public static NoticeFacts RequestReceived(Guid requestId, DateTimeOffset deadline) =>
        new(NoticeKind.RequestReceived, null, CheckedRequestId(requestId), null, deadline);

    /// <summary>A request's deadline extended to <paramref name="newDeadline"/>.</summary>
    public static NoticeFacts RequestExtended(Guid requestId, DateTimeOffset newDeadline) =>
        new(NoticeKind.RequestExtended, null, CheckedRequestId(requestId), null, newDeadline);

    /// <summary>A request completed at <paramref name="completedAt"/>.</summary>
    public static NoticeFacts RequestCompleted(Guid requestId, DateTimeOffset completedAt) =>
        new(NoticeKind.RequestCompleted, null, CheckedRequestId(requestId), completedAt, null);

    /// <summary>A partner's erasure of what it held, confirmed at <paramref name="erasedAt"/>.</summary>
    public static NoticeFacts PartnerErasure(string clientId, DateTimeOffset erasedAt) =>
        new(NoticeKind.PartnerErasure, CheckedClientId(clientId), null, erasedAt, null);

    /// <summary>A client id as registration accepts it: 3 to 100 letters, digits, '-', '_' or '.'. Nothing else fits in a notice.</summary>
    public static bool IsClientId(string? value) =>
        value is { Length: >= 3 and <= 100 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The facts of a stored row, as they were written.</summary>
    internal static NoticeFacts Stored(NoticeKind kind, string? clientId, Guid? requestId, DateTimeOffset? occurredAt, DateTimeOffset? deadlineAt) =>
        new(kind, clientId, requestId, occurredAt, deadlineAt);

    private static string CheckedClientId(string clientId) => IsClientId(clientId)
        ? clientId
        : throw new ArgumentException("A notice names a partner by its client id (3 to 100 letters, digits, '-', '_' or '.'), never by free text.", nameof(clientId));

    private static Guid CheckedRequestId(Guid requestId) => requestId != Guid.Empty
        ? requestId
        : throw new ArgumentException("A request's reference is never empty.", nameof(requestId));
}
