namespace Compliance.Oidc;

/// <summary>The rate-limiting policies of the provider's endpoints, partitioned by client address.</summary>
internal static class OidcRateLimits
{
    public const string Interactive = "oidc-interactive";
    public const string Token = "oidc-token";
}
