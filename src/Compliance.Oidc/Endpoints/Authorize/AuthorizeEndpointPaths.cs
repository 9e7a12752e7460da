namespace Compliance.Oidc.Endpoints.Authorize;

internal static class AuthorizeEndpointPaths
{
    public const string Authorize = "/connect/authorize";
    public const string Resume = "/connect/authorize/resume";
    public const string Consent = "/connect/consent";
    public const string PushedAuthorization = "/connect/par";
    public const string RequestUriPrefix = "urn:ietf:params:oauth:request_uri:";
}
