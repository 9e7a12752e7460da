using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Compliance.Oidc.Endpoints;

/// <summary>
/// <c>GET|POST /connect/userinfo</c> with a bearer token (header, or form body on POST; never the query, RFC 6750 §2.3).
/// It returns the pairwise <c>sub</c> only: the pseudonym is not released, since the same pseudonym at every partner
/// would let them correlate the patient. Civil claims will come from the vault, with consent.
/// </summary>
internal static class UserInfoEndpoint
{
    public const string Path = "/connect/userinfo";

    public static void MapUserInfoEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], HandleAsync).ExcludeFromDescription().DisableAntiforgery();

    private static async Task<IResult> HandleAsync(HttpContext context, AccessTokenValidator validator)
    {
        var token = await BearerTokenAsync(context.Request);
        if (token is null)
        {
            return Challenge(null, null);
        }

        var valid = await validator.ValidateAsync(token, context.RequestAborted);
        if (valid is null || valid.SubjectId is null)
        {
            return Challenge(OAuthErrors.InvalidToken, "The access token is invalid, expired or revoked.");
        }

        if (!valid.Scope.Split(' ').Contains("openid"))
        {
            return Challenge("insufficient_scope", "The openid scope is required.", StatusCodes.Status403Forbidden);
        }

        return OAuthResults.Json(new Dictionary<string, object> { ["sub"] = valid.Subject });
    }

    private static async Task<string?> BearerTokenAsync(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType)
        {
            try
            {
                var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
                return form.TryGetValue("access_token", out var values) && values.Count == 1 ? values[0] : null;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
            {
                return null;
            }
        }

        return null;
    }

    private static BearerChallenge Challenge(string? error, string? description, int status = StatusCodes.Status401Unauthorized) =>
        new BearerChallenge(error, description, status);

    private sealed class BearerChallenge(string? error, string? description, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers.CacheControl = "no-store";
            httpContext.Response.Headers.WWWAuthenticate = error is null
                ? "Bearer realm=\"compliance\""
                : $"Bearer realm=\"compliance\", error=\"{error}\", error_description=\"{description}\"";
            return Task.CompletedTask;
        }
    }
}
