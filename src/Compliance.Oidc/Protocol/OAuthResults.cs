using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Protocol;

/// <summary>JSON answers of the back-channel endpoints, never cached (RFC 6749 §5.1).</summary>
internal static class OAuthResults
{
    public static IResult Json(object body, int status = StatusCodes.Status200OK) => new NoStoreJson(body, status, null);

    /// <summary>An OAuth error: 401 with a Basic challenge for <c>invalid_client</c>, 400 otherwise.</summary>
    public static IResult Error(string error, string description)
    {
        var status = error == OAuthErrors.InvalidClient ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest;
        return new NoStoreJson(
            new Dictionary<string, string> { ["error"] = error, ["error_description"] = description },
            status,
            error == OAuthErrors.InvalidClient ? "Basic realm=\"compliance\"" : null);
    }

    private sealed class NoStoreJson(object body, int status, string? challenge) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            response.Headers.Pragma = "no-cache";
            if (challenge is not null)
            {
                response.Headers.WWWAuthenticate = challenge;
            }

            response.ContentType = "application/json; charset=utf-8";
            await JsonSerializer.SerializeAsync(response.Body, body, body.GetType(), cancellationToken: httpContext.RequestAborted);
        }
    }
}
