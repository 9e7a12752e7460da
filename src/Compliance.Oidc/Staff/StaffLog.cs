using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Staff;

/// <summary>
/// Staff sign-in log events (ids 2100-2119). Roles appear; names, ids, passwords, codes and keys never do (the audit
/// trail holds who, by id).
/// </summary>
internal static partial class StaffLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Staff signed in ({Role}, {Method})")]
    public static partial void SignedIn(ILogger logger, string role, string method);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Staff sign-in refused at the {Step} step: {Reason}")]
    public static partial void SignInRefused(ILogger logger, string step, string reason);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Staff second factor enrolled")]
    public static partial void Enrolled(ILogger logger);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Staff signed out")]
    public static partial void SignedOut(ILogger logger);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "A staff session cookie was refused: its session has ended, expired, or its account is gone")]
    public static partial void SessionRefused(ILogger logger);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "A patient session reached the staff page {Endpoint} and was refused")]
    public static partial void PatientRefused(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "A {Role} reached the staff page {Endpoint} of another role and was refused")]
    public static partial void AccessDenied(ILogger logger, string role, string endpoint);
}
