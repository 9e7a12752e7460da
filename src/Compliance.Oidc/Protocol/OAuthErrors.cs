namespace Compliance.Oidc.Protocol;

/// <summary>The error codes of RFC 6749, RFC 6750, RFC 7009, RFC 9126 and OpenID Connect Core that we answer with.</summary>
public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string InvalidScope = "invalid_scope";
    public const string AccessDenied = "access_denied";
    public const string ServerError = "server_error";
    public const string LoginRequired = "login_required";
    public const string ConsentRequired = "consent_required";
    public const string InteractionRequired = "interaction_required";
    public const string InvalidRequestUri = "invalid_request_uri";
    public const string RequestNotSupported = "request_not_supported";
    public const string UnmetAuthenticationRequirements = "unmet_authentication_requirements";
    public const string InvalidToken = "invalid_token";
    public const string UnsupportedTokenType = "unsupported_token_type";
}

/// <summary>A protocol error to answer with: a code and a description that never echoes secrets or personal data.</summary>
public sealed class OAuthException(string error, string description) : Exception(description)
{
    public string Error { get; } = error;

    public string Description { get; } = description;
}
