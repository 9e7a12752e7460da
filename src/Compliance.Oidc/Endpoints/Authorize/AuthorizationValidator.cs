using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Interaction;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Endpoints.Authorize;

/// <summary>The outcome of validating an authorization request.</summary>
internal abstract record AuthorizationValidation
{
    /// <summary>Valid: the request and its client.</summary>
    public sealed record Valid(AuthorizationRequest Request, Client Client) : AuthorizationValidation;

    /// <summary>
    /// The client or its redirect URI cannot be trusted: the error is shown to the patient and never redirected
    /// (RFC 6749 §4.1.2.1).
    /// </summary>
    public sealed record Untrusted(string Error, string Description) : AuthorizationValidation;

    /// <summary>An error reported to the client's registered redirect URI.</summary>
    public sealed record Redirected(Client Client, string RedirectUri, string? State, string Error, string Description) : AuthorizationValidation;
}

/// <summary>
/// Every rule of the authorization endpoint, in order: client and exact redirect URI first (errors before that point are
/// never redirected), then PAR, response type, scopes, PKCE S256, prompt, max_age.
/// </summary>
internal sealed partial class AuthorizationValidator(ClientRegistry clients, ComplianceDbContext db, TimeProvider time, PolicySet? policies = null)
{
    private static readonly HashSet<string> KnownPrompts = new(StringComparer.Ordinal) { "none", "login", "consent", "select_account" };

    public async Task<AuthorizationValidation> ValidateAsync(ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var clientId = parameters["client_id"];
        if (clientId is null)
        {
            return new AuthorizationValidation.Untrusted(OAuthErrors.InvalidRequest, "client_id is missing.");
        }

        var client = await clients.FindAsync(clientId, cancellationToken);
        if (client is null)
        {
            return new AuthorizationValidation.Untrusted(OAuthErrors.InvalidClient, "The client is not registered.");
        }

        var pushed = false;
        if (parameters["request_uri"] is { } requestUri)
        {
            var stored = await RedeemPushedRequestAsync(requestUri, clientId, cancellationToken);
            if (stored is null)
            {
                return new AuthorizationValidation.Untrusted(OAuthErrors.InvalidRequestUri, "request_uri is unknown, expired, already used, or for another client.");
            }

            parameters = stored;
            pushed = true;
        }

        return Validate(parameters, client, pushed);
    }

    /// <summary>Validates parameters pushed to the PAR endpoint by an authenticated client, without a request_uri.</summary>
    public AuthorizationValidation ValidatePushed(ProtocolParameters parameters, Client client)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters["request_uri"] is not null
            ? new AuthorizationValidation.Untrusted(OAuthErrors.InvalidRequest, "request_uri cannot be pushed.")
            : Validate(parameters, client, pushed: true);
    }

    private AuthorizationValidation Validate(ProtocolParameters parameters, Client client, bool pushed)
    {
        var redirectUri = parameters["redirect_uri"];
        if (redirectUri is null || !client.RedirectUriList.Contains(redirectUri, StringComparer.Ordinal))
        {
            return new AuthorizationValidation.Untrusted(OAuthErrors.InvalidRequest, "redirect_uri is missing or not registered for this client.");
        }

        if (parameters["client_id"] is { } clientId && clientId != client.ClientId)
        {
            return new AuthorizationValidation.Untrusted(OAuthErrors.InvalidRequest, "client_id does not match.");
        }

        var state = parameters["state"];
        AuthorizationValidation Fail(string error, string description) =>
            new AuthorizationValidation.Redirected(client, redirectUri, state, error, description);

        if (parameters["request"] is not null)
        {
            return Fail(OAuthErrors.RequestNotSupported, "Request objects are not supported; use PAR.");
        }

        if (client.RequirePushedAuthorizationRequests && !pushed)
        {
            return Fail(OAuthErrors.InvalidRequest, "This client must use pushed authorization requests.");
        }

        if (!client.Allows("authorization_code"))
        {
            return Fail(OAuthErrors.UnauthorizedClient, "This client may not use the authorization code grant.");
        }

        if (parameters["response_type"] != "code")
        {
            return Fail(OAuthErrors.UnsupportedResponseType, "Only response_type=code is supported.");
        }

        if (parameters["response_mode"] is { } mode && mode != "query")
        {
            return Fail(OAuthErrors.InvalidRequest, "Only response_mode=query is supported.");
        }

        var scopes = parameters.List("scope").Distinct(StringComparer.Ordinal).ToList();
        // A retired purpose offers no scope to new requests, even to a client registered for it.
        var supported = ClientAdministration.SupportedScopesOf(policies);
        if (scopes.Count == 0 || scopes.Any(s => !supported.Contains(s) || !client.ScopeList.Contains(s, StringComparer.Ordinal) || !client.MayBeGranted(s, policies)))
        {
            return Fail(OAuthErrors.InvalidScope, "The scope is missing, unknown, or not allowed for this client.");
        }

        var challenge = parameters["code_challenge"];
        if (challenge is null)
        {
            return Fail(OAuthErrors.InvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256.");
        }

        if (parameters["code_challenge_method"] != "S256")
        {
            return Fail(OAuthErrors.InvalidRequest, "code_challenge_method must be S256.");
        }

        if (!ChallengePattern().IsMatch(challenge))
        {
            return Fail(OAuthErrors.InvalidRequest, "code_challenge is not a base64url SHA-256 value.");
        }

        var prompt = parameters.List("prompt");
        if (prompt.Any(p => !KnownPrompts.Contains(p)) || (prompt.Contains("none") && prompt.Count > 1))
        {
            return Fail(OAuthErrors.InvalidRequest, "prompt is invalid.");
        }

        int? maxAge = null;
        if (parameters["max_age"] is { } maxAgeText)
        {
            if (!int.TryParse(maxAgeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                return Fail(OAuthErrors.InvalidRequest, "max_age must be a non-negative integer.");
            }

            maxAge = value;
        }

        if (parameters["nonce"] is { Length: > 512 })
        {
            return Fail(OAuthErrors.InvalidRequest, "nonce is too long.");
        }

        if (parameters["id_token_hint"] is { Length: > IdTokenHints.MaxLength })
        {
            return Fail(OAuthErrors.InvalidRequest, "id_token_hint is too long.");
        }

        return new AuthorizationValidation.Valid(
            new AuthorizationRequest(
                client.ClientId,
                redirectUri,
                scopes,
                state,
                parameters["nonce"],
                challenge,
                prompt,
                maxAge,
                parameters.List("acr_values"),
                time.GetUtcNow())
            {
                IdTokenHint = parameters["id_token_hint"],
                UiLocale = Ui.UiLanguage.FromUiLocales(parameters["ui_locales"]),
            },
            client);
    }

    private async Task<ProtocolParameters?> RedeemPushedRequestAsync(string requestUri, string clientId, CancellationToken cancellationToken)
    {
        if (!requestUri.StartsWith(AuthorizeEndpointPaths.RequestUriPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var handle = requestUri[AuthorizeEndpointPaths.RequestUriPrefix.Length..];
        var now = time.GetUtcNow();

        // Single use: only the request that flips consumed_at may go on.
        var redeemed = await db.Set<PushedRequest>()
            .Where(r => r.Handle == handle && r.ClientId == clientId && r.ConsumedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConsumedAt, now), cancellationToken);
        if (redeemed != 1)
        {
            return null;
        }

        var stored = await db.Set<PushedRequest>().AsNoTracking().FirstAsync(r => r.Handle == handle, cancellationToken);
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(stored.Parameters) ?? [];
        return ProtocolParameters.FromPairs(values.Select(v => new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>(v.Key, v.Value)));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial Regex ChallengePattern();
}
