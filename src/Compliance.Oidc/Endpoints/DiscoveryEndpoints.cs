using Compliance.Keys;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Endpoints.Authorize;
using Compliance.Oidc.Endpoints.Token;
using Compliance.Policies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Endpoints;

/// <summary>OpenID Connect Discovery 1.0 metadata and the JWKS of the signing keys (next, current and still-valid retired).</summary>
internal static class DiscoveryEndpoints
{
    public const string ConfigurationPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/.well-known/jwks.json";

    public static void MapDiscoveryEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(ConfigurationPath, Configuration).WithTags("OpenID Connect").WithSummary("OpenID Provider metadata.");
        routes.MapGet(JwksPath, JwksAsync).WithTags("OpenID Connect").WithSummary("Public signing keys.");
    }

    private static IResult Configuration(HttpContext context, IOptions<OidcOptions> options)
    {
        var issuer = options.Value.IssuerUri;
        context.Response.Headers.CacheControl = "public, max-age=300";
        return Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + AuthorizeEndpointPaths.Authorize,
            ["pushed_authorization_request_endpoint"] = issuer + AuthorizeEndpointPaths.PushedAuthorization,
            ["token_endpoint"] = issuer + TokenEndpoint.Path,
            ["userinfo_endpoint"] = issuer + UserInfoEndpoint.Path,
            ["introspection_endpoint"] = issuer + IntrospectionEndpoint.Path,
            ["revocation_endpoint"] = issuer + RevocationEndpoint.Path,
            ["end_session_endpoint"] = issuer + EndSessionEndpoint.Path,
            ["jwks_uri"] = issuer + JwksPath,
            ["scopes_supported"] = ClientAdministration.SupportedScopesOf(context.RequestServices.GetService<PolicySet>()).Order(StringComparer.Ordinal).ToArray(),
            ["response_types_supported"] = ResponseTypes,
            ["response_modes_supported"] = ResponseModes,
            ["grant_types_supported"] = GrantTypes,
            ["subject_types_supported"] = SubjectTypes,
            ["id_token_signing_alg_values_supported"] = IdTokenAlgorithms,
            ["token_endpoint_auth_methods_supported"] = AuthMethods,
            ["token_endpoint_auth_signing_alg_values_supported"] = AssertionAlgorithms,
            ["introspection_endpoint_auth_methods_supported"] = AuthMethods,
            ["revocation_endpoint_auth_methods_supported"] = AuthMethods,
            ["code_challenge_methods_supported"] = ChallengeMethods,
            ["claims_supported"] = Claims,
            ["acr_values_supported"] = Session.Reachable,
            ["prompt_values_supported"] = Prompts,
            ["authorization_response_iss_parameter_supported"] = true,
            ["require_pushed_authorization_requests"] = false,
            ["request_parameter_supported"] = false,
            ["request_uri_parameter_supported"] = false,
            ["claims_parameter_supported"] = false,
            ["ui_locales_supported"] = UiLocales,
            ["backchannel_logout_supported"] = true,
            ["backchannel_logout_session_supported"] = true,
        });
    }

    private static readonly string[] ResponseTypes = ["code"];
    private static readonly string[] ResponseModes = ["query"];
    private static readonly string[] GrantTypes = ["authorization_code", "refresh_token", "client_credentials"];
    private static readonly string[] SubjectTypes = ["pairwise"];
    private static readonly string[] IdTokenAlgorithms = ["ES256", "RS256"];
    private static readonly string[] ChallengeMethods = ["S256"];
    private static readonly string[] Claims = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid"];
    private static readonly string[] Prompts = ["none", "login", "consent"];
    private static readonly string[] UiLocales = ["fr", "en"];

    private static readonly string[] AuthMethods = ["client_secret_basic", "private_key_jwt", "none"];
    private static readonly string[] AssertionAlgorithms = ["ES256", "ES384", "RS256", "PS256"];

    private static async Task<IResult> JwksAsync(HttpContext context, ISigningKeys keys)
    {
        var published = await keys.GetPublishedKeysAsync(context.RequestAborted);

        // Short: a revoked key leaves the set on every node within 10 s, and a partner that honours this header
        // stops trusting it within a minute more. Partners refetch on an unknown kid anyway (new keys are pre-published).
        context.Response.Headers.CacheControl = "public, max-age=60";

        // Only public members, whatever the key object holds.
        var list = published.Select(k =>
        {
            var members = new Dictionary<string, string> { ["kty"] = k.Kty, ["kid"] = k.Kid, ["use"] = "sig", ["alg"] = k.Alg };
            foreach (var (name, value) in new[] { ("crv", k.Crv), ("x", k.X), ("y", k.Y), ("n", k.N), ("e", k.E) })
            {
                if (!string.IsNullOrEmpty(value))
                {
                    members[name] = value;
                }
            }

            return members;
        }).ToList();
        return Results.Json(new Dictionary<string, object> { ["keys"] = list });
    }
}
