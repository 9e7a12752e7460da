using System.Net.Http.Json;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Clients;

/// <summary>What an operator asks for when registering a client (<c>compliance clients add</c>).</summary>
public sealed record ClientRequest(
    string ClientId,
    string DisplayName,
    string Type,
    string TokenEndpointAuthMethod,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> PostLogoutRedirectUris,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string> GrantTypes,
    string? Jwks = null,
    string? JwksUri = null,
    string? SectorIdentifierUri = null,
    string IdTokenSignedResponseAlg = "ES256",
    int AccessTokenLifetimeSeconds = 300,
    int RefreshTokenSlidingLifetimeSeconds = 86_400,
    int RefreshTokenAbsoluteLifetimeSeconds = 2_592_000,
    int IdTokenLifetimeSeconds = 300,
    bool RequireConsent = true,
    bool RequirePushedAuthorizationRequests = false,
    string? MinimumAcr = null);

/// <summary>The registered client and, for <c>client_secret_basic</c>, its secret: shown once, never stored.</summary>
public sealed record RegisteredClient(Client Client, string? Secret);

/// <summary>Registers, lists and removes clients, checking everything a partner could get wrong.</summary>
public sealed partial class ClientAdministration(ComplianceDbContext db, IHttpClientFactory http, Microsoft.Extensions.Options.IOptions<OidcOptions> options, TimeProvider time)
{
    public static readonly IReadOnlySet<string> SupportedScopes = new HashSet<string>(StringComparer.Ordinal) { "openid", "offline_access" };

    public static readonly IReadOnlySet<string> SupportedGrantTypes =
        new HashSet<string>(StringComparer.Ordinal) { "authorization_code", "refresh_token", "client_credentials" };

    public async Task<RegisteredClient> AddAsync(ClientRequest request, CancellationToken cancellationToken, string? fixedSecret = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = Validate(request, options.Value.AllowLoopbackHttpFetch);
        var sector = errors.Count == 0 ? await ResolveSectorAsync(request, errors, cancellationToken) : null;
        if (errors.Count > 0 || sector is null)
        {
            throw new ClientRegistrationException(errors);
        }

        if (await db.Set<Client>().AnyAsync(c => c.ClientId == request.ClientId, cancellationToken))
        {
            throw new ClientRegistrationException([$"client_id: '{request.ClientId}' is already registered."]);
        }

        var secret = request.TokenEndpointAuthMethod == ClientAuthMethods.SecretBasic ? fixedSecret ?? ClientSecrets.Generate() : null;
        var client = new Client
        {
            ClientId = request.ClientId,
            DisplayName = request.DisplayName,
            Type = request.Type,
            TokenEndpointAuthMethod = request.TokenEndpointAuthMethod,
            SecretHash = secret is null ? null : ClientSecrets.Hash(secret),
            Jwks = request.Jwks,
            JwksUri = request.JwksUri,
            RedirectUris = string.Join(' ', request.RedirectUris),
            PostLogoutRedirectUris = string.Join(' ', request.PostLogoutRedirectUris),
            AllowedScopes = string.Join(' ', request.Scopes),
            AllowedGrantTypes = string.Join(' ', request.GrantTypes),
            SectorIdentifierUri = request.SectorIdentifierUri,
            Sector = sector,
            IdTokenSignedResponseAlg = request.IdTokenSignedResponseAlg,
            AccessTokenLifetimeSeconds = request.AccessTokenLifetimeSeconds,
            RefreshTokenSlidingLifetimeSeconds = request.RefreshTokenSlidingLifetimeSeconds,
            RefreshTokenAbsoluteLifetimeSeconds = request.RefreshTokenAbsoluteLifetimeSeconds,
            IdTokenLifetimeSeconds = request.IdTokenLifetimeSeconds,
            RequireConsent = request.RequireConsent,
            RequirePushedAuthorizationRequests = request.RequirePushedAuthorizationRequests,
            MinimumAcr = request.MinimumAcr,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(client);
        await db.SaveChangesAsync(cancellationToken);
        return new RegisteredClient(client, secret);
    }

    public Task<List<Client>> ListAsync(CancellationToken cancellationToken) =>
        db.Set<Client>().AsNoTracking().OrderBy(c => c.ClientId).ToListAsync(cancellationToken);

    public Task<Client?> FindAsync(string clientId, CancellationToken cancellationToken) =>
        db.Set<Client>().AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId, cancellationToken);

    public async Task<bool> RemoveAsync(string clientId, CancellationToken cancellationToken) =>
        await db.Set<Client>().Where(c => c.ClientId == clientId).ExecuteDeleteAsync(cancellationToken) > 0;

    private static List<string> Validate(ClientRequest request, bool allowLoopbackHttp)
    {
        var errors = new List<string>();
        if (request.ClientId.Length is < 3 or > 100 || !request.ClientId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add("client_id: 3 to 100 characters among letters, digits, '-', '_' and '.'.");
        }

        if (string.IsNullOrWhiteSpace(request.DisplayName) || request.DisplayName.Length > 200)
        {
            errors.Add("display name: required, at most 200 characters.");
        }

        var methodFits = (request.Type, request.TokenEndpointAuthMethod) switch
        {
            (ClientTypes.Public, ClientAuthMethods.None) => true,
            (ClientTypes.Confidential, ClientAuthMethods.SecretBasic or ClientAuthMethods.PrivateKeyJwt) => true,
            _ => false,
        };
        if (!methodFits)
        {
            errors.Add("type/auth method: a public client uses 'none'; a confidential one 'client_secret_basic' or 'private_key_jwt'.");
        }

        if (request.TokenEndpointAuthMethod == ClientAuthMethods.PrivateKeyJwt)
        {
            if ((request.Jwks is null) == (request.JwksUri is null))
            {
                errors.Add("jwks: private_key_jwt needs exactly one of an inline JWKS or a jwks_uri.");
            }
            else if (request.Jwks is not null && !IsPublicJwks(request.Jwks))
            {
                errors.Add("jwks: not a JWKS of public signing keys.");
            }
            else if (request.JwksUri is not null && !IsFetchable(request.JwksUri, allowLoopbackHttp))
            {
                errors.Add("jwks_uri: must be an https URL.");
            }
        }

        foreach (var uri in request.RedirectUris.Concat(request.PostLogoutRedirectUris))
        {
            if (!IsAcceptableRedirect(uri))
            {
                errors.Add($"redirect URI '{uri}': must be absolute, https (http only on loopback), without fragment or credentials.");
            }
        }

        if (request.GrantTypes.Contains("authorization_code") && request.RedirectUris.Count == 0)
        {
            errors.Add("redirect URIs: the authorization_code grant needs at least one.");
        }

        foreach (var scope in request.Scopes.Where(s => !ScopePattern().IsMatch(s)))
        {
            errors.Add($"scope '{scope}': lower-case letters, digits, '.', '_', ':' and '-', at most 64 characters.");
        }

        foreach (var grant in request.GrantTypes.Where(g => !SupportedGrantTypes.Contains(g)))
        {
            errors.Add($"grant type '{grant}': not supported (authorization_code, refresh_token, client_credentials).");
        }

        if (request.Type == ClientTypes.Public && request.GrantTypes.Contains("client_credentials"))
        {
            errors.Add("grant type 'client_credentials': only for confidential clients.");
        }

        if (request.IdTokenSignedResponseAlg is not ("ES256" or "RS256"))
        {
            errors.Add("id token algorithm: ES256 or RS256.");
        }

        if (request.AccessTokenLifetimeSeconds is < 30 or > 3600)
        {
            errors.Add("access token lifetime: 30 to 3600 seconds.");
        }

        if (request.IdTokenLifetimeSeconds is < 30 or > 3600)
        {
            errors.Add("ID token lifetime: 30 to 3600 seconds.");
        }

        if (request.RefreshTokenSlidingLifetimeSeconds < 60 || request.RefreshTokenAbsoluteLifetimeSeconds < request.RefreshTokenSlidingLifetimeSeconds
            || request.RefreshTokenAbsoluteLifetimeSeconds > 31_536_000)
        {
            errors.Add("refresh token lifetimes: sliding at least 60 s, absolute between sliding and one year.");
        }

        if (request.MinimumAcr is not (null or "eidas1" or "eidas2" or "eidas3"))
        {
            errors.Add("minimum acr: eidas1, eidas2 or eidas3.");
        }

        return errors;
    }

    private async Task<string?> ResolveSectorAsync(ClientRequest request, List<string> errors, CancellationToken cancellationToken)
    {
        if (request.SectorIdentifierUri is null)
        {
            var hosts = request.RedirectUris.Select(u => new Uri(u).Host.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
            if (hosts.Count == 1)
            {
                return hosts[0];
            }

            if (hosts.Count == 0)
            {
                return request.ClientId.ToLowerInvariant();
            }

            errors.Add("sector: the redirect URIs span several hosts; register a sector_identifier_uri (OpenID Connect Core §8.1).");
            return null;
        }

        if (!IsFetchable(request.SectorIdentifierUri, options.Value.AllowLoopbackHttpFetch))
        {
            errors.Add("sector_identifier_uri: must be an https URL.");
            return null;
        }

        // OpenID Connect Core §8.1: the document is a JSON array that must list every redirect URI.
        try
        {
            using var client = http.CreateClient("compliance-fetch");
            var listed = await client.GetFromJsonAsync<string[]>(request.SectorIdentifierUri, cancellationToken) ?? [];
            var missing = request.RedirectUris.Except(listed, StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                errors.Add($"sector_identifier_uri: does not list {string.Join(", ", missing)}.");
                return null;
            }
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException or NotSupportedException)
        {
            errors.Add($"sector_identifier_uri: could not be fetched as a JSON array of URIs ({e.GetType().Name}).");
            return null;
        }

        return new Uri(request.SectorIdentifierUri).Host.ToLowerInvariant();
    }

    internal static bool IsAcceptableRedirect(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo) && value.Length <= 2000;

    /// <summary>Partner documents are fetched over https only (http on loopback when the setting allows it, for tests).</summary>
    internal static bool IsFetchable(string? value, bool allowLoopbackHttp) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && string.IsNullOrEmpty(uri.UserInfo)
        && (uri.Scheme == Uri.UriSchemeHttps || (allowLoopbackHttp && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9._:-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ScopePattern();

    private static bool IsPublicJwks(string json)
    {
        try
        {
            var set = new JsonWebKeySet(json);
            return set.Keys.Count > 0 && set.Keys.All(k => !k.HasPrivateKey && k.Kty is "EC" or "RSA");
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or FormatException)
        {
            return false;
        }
    }
}

/// <summary>A client registration was refused; each message names the field and the reason.</summary>
public sealed class ClientRegistrationException : Exception
{
    public ClientRegistrationException()
    {
    }

    public ClientRegistrationException(string message)
        : base(message)
    {
    }

    public ClientRegistrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ClientRegistrationException(IReadOnlyList<string> errors)
        : base(string.Join(Environment.NewLine, errors)) => Errors = errors;

    public IReadOnlyList<string> Errors { get; } = [];
}
