using Compliance.Oidc.Ui;
using Microsoft.Net.Http.Headers;

namespace Compliance.Server.Hosting;

/// <summary>
/// The body of a bare error status (404, 405, ...): problem+json with its stable code, as partners' servers expect,
/// except for a browser navigating to a page, which gets a readable page in the patient's language.
/// </summary>
internal static class StatusCodeAnswers
{
    // Machine endpoints: whatever the Accept header says, their errors stay machine-readable.
    private static readonly string[] ApiPaths =
    [
        "/connect/token", "/connect/par", "/connect/introspect", "/connect/revoke", "/connect/userinfo",
        "/health", "/openapi", "/.well-known",
    ];

    public static IApplicationBuilder UseComplianceStatusCodePages(this IApplicationBuilder app)
    {
        // The default handler writes problem+json through IProblemDetailsService (and so adds the stable code).
        var options = new StatusCodePagesOptions();
        var problemJson = options.HandleAsync;
        options.HandleAsync = context => IsBrowserNavigation(context.HttpContext.Request)
            ? StatusCodePage.WriteAsync(context.HttpContext)
            : problemJson(context);
        return app.UseStatusCodePages(options);
    }

    /// <summary>
    /// The body of a failed request (an exception, already logged by the exception handler): the same page for a
    /// browser, problem+json with its stable code for everything else. Neither says anything of the exception.
    /// </summary>
    public static async Task WriteFailureAsync(HttpContext context)
    {
        if (IsBrowserNavigation(context.Request))
        {
            await StatusCodePage.WriteAsync(context);
            return;
        }

        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = context.Response.StatusCode },
        });
    }

    /// <summary>True when the request is not for an API and its Accept header puts text/html first (as browsers do for a page).</summary>
    internal static bool IsBrowserNavigation(HttpRequest request)
    {
        if (ApiPaths.Any(path => request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase))
            || !MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        // The first of the most preferred types; OrderByDescending is stable, so ties keep the browser's order.
        var preferred = accepted.Where(type => type.Quality is not 0d).OrderByDescending(type => type.Quality ?? 1).FirstOrDefault();
        return preferred is not null && preferred.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase);
    }
}
