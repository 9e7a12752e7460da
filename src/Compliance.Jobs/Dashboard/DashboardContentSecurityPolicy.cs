using Microsoft.AspNetCore.Http;

namespace Compliance.Jobs.Dashboard;

/// <summary>
/// The dashboard's own Content-Security-Policy, set before Hangfire writes, so that the host's policy (which leaves a
/// page's own policy alone) does not replace it. It applies to the dashboard's responses only; a refused request never
/// reaches here and gets the host's policy.
/// </summary>
internal static class DashboardContentSecurityPolicy
{
    /// <summary>
    /// The stylesheet Chart.js 2.9.4 (bundled in Hangfire 1.8.25's script) adds to the page when it draws the live chart:
    /// <c>/* Chart.js */\n@keyframes chartjs-render-animation…</c>, a constant text, admitted by its SHA-256 alone.
    /// </summary>
    public const string ChartJsStylesheetHash = "'sha256-z7zcnw/4WalZqx+PrNaRnoeLz/G9WXuFqV1WCJ129sg='";

    /// <summary>
    /// The SHA-256 of the empty text. A job's page writes <c>style=""</c> on its state cards (where a state that registers
    /// a colour would have it: none of Hangfire's own, none of ours); with <c>'unsafe-hashes'</c> this admits those empty
    /// attributes, and no other.
    /// </summary>
    public const string EmptyStyleHash = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='";

    // The host's policy, with one difference: style-src also admits those two exact texts, by hash, never
    // 'unsafe-inline'. Scripts stay 'self' only: Hangfire's pages carry no inline script (their settings are data-
    // attributes). A Hangfire upgrade that adds another inline style shows as a console error in the browser test.
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-hashes' " + ChartJsStylesheetHash + " " + EmptyStyleHash + "; "
        + "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static Task Apply(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers.ContentSecurityPolicy = Policy;

        // Pages and /stats show jobs and servers as they are now: never kept by a browser or a proxy. Scripts, styles and
        // fonts keep the expiry Hangfire gives them.
        context.Response.OnStarting(static state =>
        {
            var response = ((HttpContext)state).Response;
            var type = response.ContentType ?? "";
            if (type.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
