namespace Compliance.Server.Hosting;

/// <summary>
/// The stable <c>code</c> member of every <c>application/problem+json</c> answer. Clients branch on these, so a code
/// is never renamed or reused; new ones are added at the end.
/// </summary>
public static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string NotAcceptable = "not_acceptable";
    public const string Conflict = "conflict";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UriTooLong = "uri_too_long";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string TooManyRequests = "rate_limited";
    public const string RequestHeadersTooLarge = "request_headers_too_large";
    public const string Internal = "internal_error";
    public const string Unavailable = "unavailable";

    /// <summary>The code for a status that no endpoint gave a more precise code for.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        409 => Conflict,
        413 => PayloadTooLarge,
        414 => UriTooLong,
        415 => UnsupportedMediaType,
        429 => TooManyRequests,
        431 => RequestHeadersTooLarge,
        503 => Unavailable,
        >= 500 => Internal,
        _ => BadRequest,
    };
}
