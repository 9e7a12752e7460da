namespace Compliance.Oidc.Sessions;

/// <summary>
/// A sign-in session, kept server-side so that it can be ended by id and every node sees it ended. The cookie only
/// carries its id (encrypted); the id never leaves the service: partners receive a pairwise <c>sid</c>.
/// </summary>
public sealed class BrowserSession
{
    /// <summary>128 random bits, base64url.</summary>
    public required string Id { get; set; }

    public Guid SubjectId { get; set; }

    public DateTimeOffset AuthTime { get; set; }

    public required string Acr { get; set; }

    /// <summary>Space-separated authentication methods.</summary>
    public required string Amr { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last request seen in this session, to the minute: the idle lifetime runs from it.</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>The session ends then, however active it is.</summary>
    public DateTimeOffset AbsoluteExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why it ended: one of <see cref="SessionEndReasons"/>.</summary>
    public string? EndReason { get; set; }
}

/// <summary>Why a session ended.</summary>
public static class SessionEndReasons
{
    public const string SignedOut = "signed_out";
    public const string Replaced = "replaced";
    public const string AccountDeleted = "account_deleted";
    public const string Erased = "erased";
    public const string Expired = "expired";
    public const string PasswordChanged = "password_changed";
}

/// <summary>A partner that received an ID token in a session: it is told when the session ends.</summary>
public sealed class SessionClient
{
    public required string SessionId { get; set; }

    public required string ClientId { get; set; }
}

/// <summary>
/// One back-channel logout token to deliver (an outbox row): retried with backoff until the partner answers 200,
/// and marked failed after <see cref="LogoutDeliveries.GiveUpAfter"/>.
/// </summary>
public sealed class LogoutDelivery
{
    public Guid Id { get; set; }

    public required string SessionId { get; set; }

    public required string ClientId { get; set; }

    public Guid SubjectId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public DateTimeOffset? FailedAt { get; set; }

    /// <summary>The last failure, as a status code or an exception type: never a token or a response body.</summary>
    public string? LastError { get; set; }
}
