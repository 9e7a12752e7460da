using Microsoft.Extensions.Logging;

namespace Compliance.Oidc;

/// <summary>
/// The OpenID provider's log events (ids 2000-2099). Client ids appear; pseudonyms, subjects, codes, tokens,
/// secrets and passwords never do.
/// </summary>
internal static partial class OidcLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Account created")]
    public static partial void AccountCreated(ILogger logger);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Signed in with a password")]
    public static partial void SignedIn(ILogger logger);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Sign-in failed")]
    public static partial void SignInFailed(ILogger logger);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Sign-in refused: account locked out")]
    public static partial void SignInLockedOut(ILogger logger);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "A page or partner asked for a second factor; the session was at {Acr}")]
    public static partial void StepUpRequired(ILogger logger, string acr);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Session stepped up with a second factor")]
    public static partial void SteppedUp(ILogger logger);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Password changed; {Count} other sessions ended")]
    public static partial void PasswordChanged(ILogger logger, int count);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Authorization code issued to {ClientId}")]
    public static partial void CodeIssued(ILogger logger, string clientId);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Authorization refused for {ClientId}: {Error}")]
    public static partial void AuthorizationRefused(ILogger logger, string clientId, string error);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Tokens issued to {ClientId} ({GrantType})")]
    public static partial void TokensIssued(ILogger logger, string clientId, string grantType);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Warning, Message = "Token request refused for {ClientId}: {Error}")]
    public static partial void TokenRefused(ILogger logger, string clientId, string error);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "Authorization code replayed by {ClientId}: {Count} tokens revoked")]
    public static partial void CodeReplayed(ILogger logger, string clientId, int count);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Warning, Message = "Refresh token reused by {ClientId}: family of {Count} tokens revoked")]
    public static partial void RefreshReused(ILogger logger, string clientId, int count);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Consent {Decision} for {ClientId}")]
    public static partial void ConsentDecided(ILogger logger, string clientId, string decision);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Information, Message = "Consent withdrawn by the patient for {ClientId}; its grants and tokens are revoked")]
    public static partial void ConsentWithdrawn(ILogger logger, string clientId);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Information, Message = "Signed out (client {ClientId})")]
    public static partial void SignedOut(ILogger logger, string clientId);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Information, Message = "{Count} sign-in sessions ended ({Reason})")]
    public static partial void SessionsEnded(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Information, Message = "Back-channel logout delivered to {ClientId}")]
    public static partial void LogoutDelivered(ILogger logger, string clientId);

    [LoggerMessage(EventId = 2043, Level = LogLevel.Warning, Message = "Back-channel logout to {ClientId} failed (attempt {Attempt}: {Error}); given up: {GivenUp}")]
    public static partial void LogoutDeliveryFailed(ILogger logger, string clientId, int attempt, string error, bool givenUp);

    [LoggerMessage(EventId = 2044, Level = LogLevel.Error, Message = "The back-channel logout loop failed; it will retry")]
    public static partial void LogoutLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2045, Level = LogLevel.Warning, Message = "A session cookie was refused: its session has ended or expired")]
    public static partial void SessionRefused(ILogger logger);
}
