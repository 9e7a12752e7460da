using System.Globalization;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Outbox;

/// <summary>
/// <c>GET /partner/v1/events?after=CURSOR&amp;limit=N</c>: a partner pulls the consent events it missed, its own only,
/// in cursor order, authenticated as a partner (<see cref="IPartnerAuthentication"/>). Bad parameters get a
/// problem+json with a stable <c>code</c>; a missing or wrong credential a 401 with <c>WWW-Authenticate</c>.
/// </summary>
internal static class PartnerEventsEndpoint
{
    public const string Path = "/partner/v1/events";

    public const int DefaultLimit = 100;

    // The token endpoint's rate limit (OidcRateLimits.Token): a partner's machine calls, per client address.
    private const string RateLimitPolicy = "oidc-token";

    public static IEndpointRouteBuilder MapPartnerEvents(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, EventsAsync).WithName("PartnerEvents").RequireRateLimiting(RateLimitPolicy);
        return routes;
    }

    private static async Task<IResult> EventsAsync(HttpContext context, IPartnerAuthentication authentication, IConsentOutbox outbox)
    {
        context.Response.Headers.CacheControl = "no-store";
        var partner = await authentication.AuthenticateAsync(context.Request, context.RequestAborted);
        if (partner is null)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"partner\", Bearer realm=\"partner\"";
            return Problem("unauthenticated", "Authenticate as the partner: HTTP Basic with the client secret, or a client_credentials access token.",
                StatusCodes.Status401Unauthorized);
        }

        var query = context.Request.Query;
        if (query.Keys.Any(k => k is not ("after" or "limit")))
        {
            return Problem("unknown_parameter", "Only after and limit are accepted.");
        }

        long? after = null;
        if (query.TryGetValue("after", out var afterValues))
        {
            if (afterValues.Count != 1 || !long.TryParse(afterValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return Problem("bad_cursor", "after must be one cursor: a whole number from 0, as next_cursor gave it.");
            }

            after = parsed;
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitValues)
            && (limitValues.Count != 1 || !int.TryParse(limitValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ConsentOutbox.MaxPage))
        {
            return Problem("bad_limit", $"limit must be one whole number from 1 to {ConsentOutbox.MaxPage}.");
        }

        var page = await outbox.EventsAsync(partner.ClientId, after, limit, context.RequestAborted);
        var policies = context.RequestServices.GetService<PolicySet>(); // none on a host without policies
        return TypedResults.Json(new
        {
            // A row written before a policy change made its purpose one a payer must never hear of is skipped, not sent.
            events = page.Events.Where(e => !partner.MustNotLearnOf(e.Purpose, policies)).Select(e => new
            {
                jti = e.Jti,
                type = e.Type,
                sub = e.Sub,
                purpose = e.Purpose,
                cursor = e.Cursor,
                occurred_at = e.OccurredAt.ToUniversalTime(),
            }),
            next_cursor = page.NextCursor,
        });
    }

    private static ProblemHttpResult Problem(string code, string detail, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code });
}
