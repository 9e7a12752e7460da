using Hangfire.Logging;
using Microsoft.Extensions.Logging;
using HangfireLogLevel = Hangfire.Logging.LogLevel;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Compliance.Jobs;

/// <summary>
/// Hangfire logs through one process-wide provider. This one forwards to the logger factory of the host that last
/// started a job server, and says nothing once that host is gone: a provider bound to a disposed factory would throw
/// from every Hangfire call in the process (tests run many hosts in one process, one after the other).
/// </summary>
internal sealed class HangfireLogBridge : ILogProvider
{
    private static readonly HangfireLogBridge Instance = new();
    private static ILoggerFactory? _factory;

    public static void Attach(ILoggerFactory factory)
    {
        Volatile.Write(ref _factory, factory);
        LogProvider.SetCurrentLogProvider(Instance);
    }

    public static void Detach(ILoggerFactory factory) => Interlocked.CompareExchange(ref _factory, null, factory);

    public ILog GetLogger(string name) => new ForwardingLog(name);

    private sealed class ForwardingLog(string name) : ILog
    {
        public bool Log(HangfireLogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (Volatile.Read(ref _factory) is not { } factory)
            {
                return false;
            }

            try
            {
                var logger = factory.CreateLogger(name);
                var level = Map(logLevel);
                if (messageFunc is null)
                {
                    return logger.IsEnabled(level);
                }

                if (logger.IsEnabled(level))
                {
#pragma warning disable CA1848, CA2254 // Hangfire hands over finished text; there is no template to cache.
                    logger.Log(level, 0, exception, messageFunc());
#pragma warning restore CA1848, CA2254
                }

                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }

        private static MsLogLevel Map(HangfireLogLevel level) => level switch
        {
            HangfireLogLevel.Trace => MsLogLevel.Trace,
            HangfireLogLevel.Debug => MsLogLevel.Debug,
            HangfireLogLevel.Info => MsLogLevel.Information,
            HangfireLogLevel.Warn => MsLogLevel.Warning,
            HangfireLogLevel.Error => MsLogLevel.Error,
            _ => MsLogLevel.Critical,
        };
    }
}
