using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Dashboard;

/// <summary>The job dashboard's log messages (event ids 3100–3119). No staff name or id: the audit trail holds who.</summary>
internal static partial class JobsDashboardLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Job dashboard at {Path}, for staff administrators with a second factor.")]
    public static partial void Mapped(ILogger logger, string path);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "A staff administrator asked the job dashboard for {Action} on {Jobs} job(s).")]
    public static partial void ActionAsked(ILogger logger, string action, int jobs);
}
