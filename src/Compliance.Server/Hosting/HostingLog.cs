namespace Compliance.Server.Hosting;

/// <summary>The host's log events (ids 1200-1299). They carry no personal data, token or secret.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Critical, Message = "Start refused: {Reason}")]
    public static partial void StartRefused(ILogger logger, string reason);

    /// <summary>Where the node listens and which stores it uses: never a password or a whole connection string.</summary>
    [LoggerMessage(EventId = 1201, Level = LogLevel.Information,
        Message = "Compliance service {Version} ready: listening on {Addresses}, issuer {Issuer}; stores on {Provider}: compliance {ComplianceStore}, vault {VaultStore}")]
    public static partial void Ready(ILogger logger, string version, string addresses, string issuer, string provider, string complianceStore, string vaultStore);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Stopping: finishing in-flight work (up to {TimeoutSeconds} s)")]
    public static partial void Stopping(ILogger logger, int timeoutSeconds);
}
