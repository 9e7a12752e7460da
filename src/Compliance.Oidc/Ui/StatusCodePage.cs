using Compliance.Oidc.Accounts;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Ui;

/// <summary>
/// What a patient's browser shows for a bare error status (a mistyped address, a wrong method): a page in their
/// language with a way back to their space, instead of JSON. The host decides which requests get it; APIs keep
/// problem+json.
/// </summary>
public static class StatusCodePage
{
    /// <summary>Writes the page for the response's current status code, which it keeps; it never echoes the request.</summary>
    public static Task WriteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var language = UiLanguage.From(context.Request);
        var status = context.Response.StatusCode;
        var (titleKey, messageKey) = status switch
        {
            StatusCodes.Status404NotFound => ("status.not_found.title", "status.not_found"),
            StatusCodes.Status405MethodNotAllowed => ("status.method.title", "status.method"),
            _ => ("error.title", "status.other"),
        };
        var body = $"""
            <p id="status-message">{Html.E(UiText.Get(messageKey, language))}</p>
            <p><a id="status-home-link" href="{AccountEndpoints.SignedInPath}">{Html.E(UiText.Get("authorizations.title", language))}</a></p>
            """;
        return Html.Page(context, language, UiText.Get(titleKey, language), body, status).ExecuteAsync(context);
    }
}
