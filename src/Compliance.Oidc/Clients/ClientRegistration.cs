using System.Net.Http.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Clients;

/// <summary>
/// What an operator asks for when registering a client (<c>compliance clients add</c>). <c>SharedSector</c> states that
/// this client and the clients already on its pairwise sector are one controller, and will see the same <c>sub</c> for a
/// patient; without it, a sector already taken is refused.
/// </summary>
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
    string? MinimumAcr = null,
    string? BackchannelLogoutUri = null,
    bool SharedSector = false);

/// <summary>The registered client and, for <c>client_secret_basic</c>, its secret: shown once, never stored.</summary>
public sealed record RegisteredClient(Client Client, string? Secret)
{
    /// <summary>The other clients (removed ones included) on the same pairwise sector: they see the same <c>sub</c>.</summary>
    public IReadOnlyList<string> SharesSectorWith { get; init; } = [];
}

/// <summary>Registers, lists and removes clients, checking everything a partner could get wrong.</summary>
public sealed partial class ClientAdministration(
    ComplianceDbContext db,
    IHttpClientFactory http,
    IMemoryCache cache,
    IGrantRevocation revocation,
    Microsoft.Extensions.Options.IOptions<OidcOptions> options,
    TimeProvider time)
{
    /// <summary>The sector prefix of a client whose redirect URIs are on loopback (or that has none): see <see cref="ClientSector"/>.</summary>
    public const string ClientSectorPrefix = "client:";

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

        var existing = await db.Set<Client>().AsNoTracking().Where(c => c.ClientId == request.ClientId)
            .Select(c => new { c.RemovedAt }).FirstOrDefaultAsync(cancellationToken);
        if (existing is not null)
        {
            // A removed client_id stays taken: grants, logs and partners' records name it, and must never point at another partner.
            throw new ClientRegistrationException([existing.RemovedAt is null
                ? $"client_id: '{request.ClientId}' is already registered."
                : $"client_id: '{request.ClientId}' was removed and can never be registered again; choose another client_id."]);
        }

        // Removed clients count: a patient's sub in a former partner's records must not become valid for a new one.
        var sharing = await db.Set<Client>().AsNoTracking().Where(c => c.Sector == sector)
            .OrderBy(c => c.ClientId).Select(c => c.ClientId).ToListAsync(cancellationToken);
        if (sharing.Count > 0 && !request.SharedSector)
        {
            throw new ClientRegistrationException([
                $"sector: '{sector}' is already the pairwise sector of {string.Join(", ", sharing)}, which would see the same identifier for a patient. "
                + "Give this client its own host (or sector_identifier_uri), or, only if they are one controller, pass --shared-sector."]);
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
            BackchannelLogoutUri = request.BackchannelLogoutUri,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(client);
        await db.SaveChangesAsync(cancellationToken);
        return new RegisteredClient(client, secret) { SharesSectorWith = sharing };
    }

    /// <summary>The registered clients; removed ones are absent.</summary>
    public Task<List<Client>> ListAsync(CancellationToken cancellationToken) =>
        db.Set<Client>().AsNoTracking().Where(c => c.RemovedAt == null).OrderBy(c => c.ClientId).ToListAsync(cancellationToken);

    /// <summary>A registered client, or null when unknown or removed.</summary>
    public Task<Client?> FindAsync(string clientId, CancellationToken cancellationToken) =>
        db.Set<Client>().AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId && c.RemovedAt == null, cancellationToken);

    /// <summary>
    /// Removes a client, in one transaction: marks it removed (a tombstone without credentials, so that its client_id is never
    /// registered again) and revokes its remembered consents, unused codes, pending pushed requests, refresh tokens and
    /// access tokens. This node forgets the client at once; other nodes within <see cref="ClientRegistry.CacheFor"/>, and
    /// meanwhile their token endpoints already refuse the revoked tokens. Returns false for an unknown or removed client.
    /// </summary>
    public async Task<bool> RemoveAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Set<Client>().Where(c => c.ClientId == clientId && c.RemovedAt == null)
            .ExecuteUpdateAsync(
                s => s.SetProperty(c => c.RemovedAt, now).SetProperty(c => c.SecretHash, (string?)null)
                    .SetProperty(c => c.Jwks, (string?)null).SetProperty(c => c.JwksUri, (string?)null),
                cancellationToken);
        if (removed == 0)
        {
            return false;
        }

        // In the same transaction as the removal; families first, so an exchange in progress is waited for and revoked.
        await revocation.RevokeClientAsync(clientId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        cache.Remove(ClientRegistry.CacheKey(clientId));
        return true;
    }

    /// <summary>
    /// The sector of a client whose redirect URIs are all on loopback (<c>127.0.0.1</c>, <c>[::1]</c>, <c>localhost</c>) or
    /// that has none: <c>client:</c> and its lower-cased client_id. Every local application shares those hosts, so the
    /// host would give unrelated clients the same <c>sub</c>.
    /// </summary>
    public static string ClientSector(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        return ClientSectorPrefix + clientId.ToLowerInvariant();
    }

    internal static bool IsLoopbackHost(Uri uri) =>
        uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

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

        // The value is not echoed: it may carry credentials.
        if (request.BackchannelLogoutUri is not null && !IsAcceptableBackchannelLogoutUri(request.BackchannelLogoutUri, allowLoopbackHttp))
        {
            errors.Add("backchannel_logout_uri: must be an absolute https URL without fragment or credentials, at most 2000 characters "
                + "(plain http only on loopback, when Oidc:AllowLoopbackHttpFetch is true).");
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
            var hosts = request.RedirectUris.Select(u => new Uri(u))
                .Select(u => IsLoopbackHost(u) ? ClientSector(request.ClientId) : u.Host.ToLowerInvariant())
                .Distinct(StringComparer.Ordinal).ToList();
            if (hosts.Count == 1)
            {
                return hosts[0];
            }

            if (hosts.Count == 0)
            {
                return ClientSector(request.ClientId);
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

    /// <summary>
    /// A back-channel logout URI is called by the provider like a partner document is fetched (<see cref="IsFetchable"/>),
    /// and must carry no fragment (OpenID Connect Back-Channel Logout 1.0 §2.2).
    /// </summary>
    internal static bool IsAcceptableBackchannelLogoutUri(string value, bool allowLoopbackHttp) =>
        value.Length <= 2000 && IsFetchable(value, allowLoopbackHttp) && string.IsNullOrEmpty(new Uri(value).Fragment);

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
