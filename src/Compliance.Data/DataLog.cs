using Microsoft.Extensions.Logging;

namespace Compliance.Data;

/// <summary>The data plumbing's log events (ids 1000-1099). No connection string ever appears in them.</summary>
internal static partial class DataLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Applied migration {Version} ({Name}) to the {Store} store in {ElapsedMs} ms")]
    public static partial void MigrationApplied(ILogger logger, string store, int version, string name, long elapsedMs);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "The {Store} store is at schema version {Version}")]
    public static partial void SchemaCurrent(ILogger logger, string store, int version);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Critical, Message = "The {Store} store is not ready: {Reason}")]
    public static partial void SchemaNotReady(ILogger logger, string store, string reason);
}
