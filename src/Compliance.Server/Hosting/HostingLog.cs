namespace Compliance.Server.Hosting;

/// <summary>The host's log events (ids 1200-1299). They carry no personal data, token or secret.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Critical, Message = "Start refused: {Reason}")]
    public static partial void StartRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Compliance service {Version} ready on {Provider}")]
    public static partial void Ready(ILogger logger, string version, string provider);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Stopping: finishing in-flight work (up to {TimeoutSeconds} s)")]
    public static partial void Stopping(ILogger logger, int timeoutSeconds);
}
