using System.Collections.Frozen;
using System.Text.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary><c>POST /connect/par</c> (RFC 9126): an authenticated client pushes its request and gets a one-time request_uri.</summary>
internal static class PushedAuthorizationEndpoint
{
    /// <summary>The serialized request stored is at most this long, well under the 16000 characters of its column.</summary>
    public const int MaxStoredLength = 8192;

    /// <summary>Each stored value is at most this long; an <c>id_token_hint</c> (one of our ID tokens) at most <see cref="MaxHintLength"/>.</summary>
    public const int MaxValueLength = 2048;

    public const int MaxHintLength = 4096;

    // Only what the authorization endpoint reads is kept; anything else is ignored (RFC 6749 §3.1), not stored.
    private static readonly FrozenSet<string> AuthorizationParameters = FrozenSet.ToFrozenSet(
    [
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt",
        "max_age", "acr_values", "response_mode", "id_token_hint", "login_hint", "ui_locales",
    ], StringComparer.Ordinal);

    public static void MapPushedAuthorizationEndpoint(this IEndpointRouteBuilder routes) =>
        routes.MapPost(AuthorizeEndpointPaths.PushedAuthorization, PushAsync)
            .ExcludeFromDescription()
            .RequireRateLimiting(OidcRateLimits.Token)
            .DisableAntiforgery();

    private static async Task<IResult> PushAsync(
        HttpContext context,
        ClientAuthenticator authenticator,
        AuthorizationValidator validator,
        ComplianceDbContext db,
        IOptions<OidcOptions> options,
        TimeProvider time)
    {
        try
        {
            var parameters = await ProtocolParameters.ReadAsync(context.Request, allowQuery: false, context.RequestAborted);
            var client = await authenticator.AuthenticateAsync(context.Request, parameters, AuthorizeEndpointPaths.PushedAuthorization, context.RequestAborted);
            var stored = parameters.All.Where(p => AuthorizationParameters.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            stored["client_id"] = client.ClientId;
            var tooLong = stored.FirstOrDefault(p => p.Value.Length > (p.Key == "id_token_hint" ? MaxHintLength : MaxValueLength)).Key;
            if (tooLong is not null)
            {
                return OAuthResults.Error(OAuthErrors.InvalidRequest, $"The parameter '{tooLong}' is too long for a pushed request.");
            }

            // Escaping (non-ASCII characters as \uXXXX) can grow the text: the bound is on what is stored.
            var serialized = JsonSerializer.Serialize(stored);
            if (serialized.Length > MaxStoredLength)
            {
                return OAuthResults.Error(OAuthErrors.InvalidRequest, "The pushed request is too large.");
            }

            var validation = validator.ValidatePushed(parameters, client);
            if (validation is AuthorizationValidation.Untrusted untrusted)
            {
                return OAuthResults.Error(untrusted.Error, untrusted.Description);
            }

            if (validation is AuthorizationValidation.Redirected redirected)
            {
                return OAuthResults.Error(redirected.Error, redirected.Description);
            }

            var handle = TokenIssuer.NewOpaque();
            var lifetime = options.Value.PushedRequestLifetimeSeconds;
            db.Add(new PushedRequest
            {
                Handle = handle,
                ClientId = client.ClientId,
                Parameters = serialized,
                ExpiresAt = time.GetUtcNow().AddSeconds(lifetime),
            });
            await db.SaveChangesAsync(context.RequestAborted);
            return OAuthResults.Json(new Dictionary<string, object>
            {
                ["request_uri"] = AuthorizeEndpointPaths.RequestUriPrefix + handle,
                ["expires_in"] = lifetime,
            }, StatusCodes.Status201Created);
        }
        catch (OAuthException e)
        {
            return OAuthResults.Error(e.Error, e.Description);
        }
    }
}
