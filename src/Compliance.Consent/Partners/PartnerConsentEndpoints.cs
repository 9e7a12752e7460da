using System.Text.Json;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Compliance.Consent.Partners;

/// <summary>
/// The partner consent API: "may I process this purpose for this <c>sub</c> now?", and the consents a partner
/// collected itself. A partner authenticates as its OAuth client (<see cref="IPartnerAuthentication"/>), names patients
/// only by its own pairwise <c>sub</c>s, and sees only its own consents. Errors are problem+json with a stable code.
/// </summary>
public static class PartnerConsentEndpoints
{
    public const string Check = "/partner/v1/consents/check";
    public const string Record = "/partner/v1/consents";

    /// <summary>The largest request body accepted: a check or a recording is a few hundred bytes.</summary>
    public const int MaxBodyBytes = 8192;

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static IEndpointRouteBuilder MapPartnerConsentApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(Check, CheckAsync).WithName("PartnerConsentCheck").RequireRateLimiting(OidcRateLimits.Token).DisableAntiforgery();
        routes.MapPost(Record, RecordAsync).WithName("PartnerConsentRecord").RequireRateLimiting(OidcRateLimits.Token).DisableAntiforgery();
        return routes;
    }

    private static async Task<IResult> CheckAsync(HttpContext context, IPartnerAuthentication authentication, ConsentCheck check, TimeProvider time)
    {
        try
        {
            var partner = await AuthenticateAsync(context, authentication);
            var request = await ReadAsync<CheckRequest>(context);
            if (!PartnerInput.IsSub(request.Sub) || !PartnerInput.IsPrintable(request.Purpose, 64))
            {
                throw new PartnerConsentException("invalid_request", "sub (the patient's pairwise sub, as this partner received it) and purpose are required.", 400);
            }

            var result = await check.CheckAsync(partner, request.Sub!, request.Purpose!, context.RequestAborted);
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new CheckResponse(result.Allowed, result.Allowed ? "allowed" : "denied", result.Reason, result.EventId, result.ExpiresAt, time.GetUtcNow()), Json);
        }
        catch (PartnerConsentException refused)
        {
            return Problem(context, refused);
        }
    }

    private static async Task<IResult> RecordAsync(HttpContext context, IPartnerAuthentication authentication, PartnerConsentRecording recording)
    {
        try
        {
            var partner = await AuthenticateAsync(context, authentication);
            var key = context.Request.Headers[IdempotencyKeyHeader];
            if (key.Count != 1 || key[0] is not { Length: > 0 and <= 100 } idempotencyKey || !idempotencyKey.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                throw new PartnerConsentException("idempotency_key_required",
                    "One Idempotency-Key header is required: 1 to 100 characters among letters, digits, '-', '_', '.' and ':'.", 400);
            }

            var request = await ReadAsync<PartnerConsentRequest>(context);
            var recorded = await recording.RecordAsync(partner, idempotencyKey, request, context.RequestAborted);
            context.Response.Headers.CacheControl = "no-store";
            var body = new RecordResponse(recorded.EventId, recorded.State, recorded.LeafIndex);
            if (recorded.Replayed)
            {
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return Results.Json(body, Json);
            }

            return Results.Json(body, Json, statusCode: StatusCodes.Status201Created);
        }
        catch (PartnerConsentException refused)
        {
            return Problem(context, refused);
        }
    }

    private static async Task<Partner> AuthenticateAsync(HttpContext context, IPartnerAuthentication authentication) =>
        await authentication.AuthenticateAsync(context.Request, context.RequestAborted)
        ?? throw new PartnerConsentException("invalid_client", "Authenticate as the partner's client: HTTP Basic with its secret, or its own client_credentials access token.", 401);

    /// <summary>Reads a small JSON body; anything else is a clear refusal, never a 500.</summary>
    private static async Task<T> ReadAsync<T>(HttpContext context)
    {
        if (!string.Equals(context.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new PartnerConsentException("unsupported_media_type", "The body is application/json.", 415);
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new PartnerConsentException("body_too_large", $"The body is at most {MaxBodyBytes} bytes.", 413);
        }

        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted)) > 0)
        {
            length += read;
            if (length > MaxBodyBytes)
            {
                throw new PartnerConsentException("body_too_large", $"The body is at most {MaxBodyBytes} bytes.", 413);
            }
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.AsSpan(0, length), Json)
                ?? throw new PartnerConsentException("invalid_request", "The body is a JSON object.", 400);
        }
        catch (JsonException)
        {
            throw new PartnerConsentException("invalid_request", "The body is not a JSON object of the documented fields.", 400);
        }
    }

    private static ProblemHttpResult Problem(HttpContext context, PartnerConsentException refused)
    {
        if (refused.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"partner-api\", Bearer realm=\"partner-api\"";
        }

        return TypedResults.Problem(detail: refused.Message, statusCode: refused.Status, extensions: new Dictionary<string, object?> { ["code"] = refused.Code });
    }

    private sealed record CheckRequest(string? Sub, string? Purpose);

    private sealed record CheckResponse(bool Allowed, string Decision, string Reason, Guid? EventId, DateTimeOffset? ExpiresAt, DateTimeOffset CheckedAt);

    private sealed record RecordResponse(Guid EventId, string State, long LeafIndex);
}
