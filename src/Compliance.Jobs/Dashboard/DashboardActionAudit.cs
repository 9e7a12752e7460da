using System.Text.Json;
using Compliance.Audit.Trail;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Compliance.Jobs.Dashboard;

/// <summary>
/// Records every action asked of the dashboard (requeue, delete, trigger a recurring job…) before Hangfire performs it:
/// an audit row names the administrator (<c>staff:ID</c>), the action and how many jobs it names, never their ids or
/// arguments. A failed record stops the action. The polling of <c>/stats</c> is no action and is not recorded.
/// </summary>
internal sealed class DashboardActionAudit(RequestDelegate next)
{
    private const int MaxActionSegments = 4;

    public async Task InvokeAsync(HttpContext context, IAntiforgery antiforgery, IAuditTrail trail, ILogger<DashboardActionAudit> logger)
    {
        var path = context.Request.Path.Value ?? "/";
        if (!HttpMethods.IsPost(context.Request.Method) || path == "/stats" || DashboardRoutes.Routes.FindDispatcher(path) is null)
        {
            await next(context);
            return;
        }

        // Hangfire checks the token as well; checked first here, so that a forged post leaves no row saying it was asked.
        if (!await antiforgery.IsRequestValidAsync(context) || !Guid.TryParse(context.User.FindFirst("sub")?.Value, out var staffId))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        var (action, idsInPath) = Describe(path);
        var named = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync(context.RequestAborted))["jobs[]"].Count : 0;
        var jobs = idsInPath + named;
        await trail.RecordAsync(AuditEventTypes.JobsDashboardAction, AuditActor.Staff(staffId), null,
            JsonSerializer.Serialize(new Dictionary<string, object> { ["action"] = action, ["jobs"] = jobs }), context.RequestAborted);
        JobsDashboardLog.ActionAsked(logger, action, jobs);
        await next(context);
    }

    /// <summary>
    /// The route's fixed words (<c>/jobs/failed/requeue</c>, <c>/recurring/trigger</c>, <c>/jobs/actions/delete</c>)
    /// and whether a job id followed them in the path; the id itself is left out.
    /// </summary>
    internal static (string Action, int IdsInPath) Describe(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var words = segments.TakeWhile(s => s.Length is > 0 and <= 32 && s.All(char.IsAsciiLetterLower)).Take(MaxActionSegments).ToList();
        return ("/" + string.Join('/', words), segments.Length > words.Count ? 1 : 0);
    }
}
