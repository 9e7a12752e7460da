using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Policies;
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
    bool SharedSector = false,
    string? ControllerName = null,
    string? DpoContact = null,
    string? NoticeUrl = null,
    string Kind = ClientKinds.Partner,
    string? WebhookUrl = null);

/// <summary>The registered client and, for <c>client_secret_basic</c>, its secret: shown once, never stored.</summary>
public sealed record RegisteredClient(Client Client, string? Secret)
{
    /// <summary>The other clients (removed ones included) on the same pairwise sector: they see the same <c>sub</c>.</summary>
    public IReadOnlyList<string> SharesSectorWith { get; init; } = [];
}

/// <summary>
/// What <c>compliance clients update</c> changes; a null field keeps its value. The type, auth method, grant types,
/// keys and client_id never change (register another client), and neither does the pairwise sector.
/// </summary>
public sealed record ClientUpdate
{
    public string? DisplayName { get; init; }

    public IReadOnlyList<string>? RedirectUris { get; init; }

    public IReadOnlyList<string>? PostLogoutRedirectUris { get; init; }

    public IReadOnlyList<string>? Scopes { get; init; }

    public int? AccessTokenLifetimeSeconds { get; init; }

    public int? IdTokenLifetimeSeconds { get; init; }

    public int? RefreshTokenSlidingLifetimeSeconds { get; init; }

    public int? RefreshTokenAbsoluteLifetimeSeconds { get; init; }

    public string? MinimumAcr { get; init; }

    /// <summary>Removes the minimum acr (any level is then accepted).</summary>
    public bool ClearMinimumAcr { get; init; }

    public string? BackchannelLogoutUri { get; init; }

    /// <summary>Removes the back-channel logout URI.</summary>
    public bool ClearBackchannelLogoutUri { get; init; }

    /// <summary>The partner's name as controller (see <see cref="Client.ControllerName"/>).</summary>
    public string? ControllerName { get; init; }

    /// <summary>The partner's DPO contact (see <see cref="Client.DpoContact"/>).</summary>
    public string? DpoContact { get; init; }

    /// <summary>The partner's privacy notice URL (see <see cref="Client.NoticeUrl"/>).</summary>
    public string? NoticeUrl { get; init; }

    /// <summary>Where the partner receives consent events (see <see cref="Client.WebhookUrl"/>).</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>Removes the webhook URL: the partner then pulls its events.</summary>
    public bool ClearWebhookUrl { get; init; }
}

/// <summary>The updated client and the names of the fields that changed (empty when the update changed nothing).</summary>
public sealed record UpdatedClient(Client Client, IReadOnlyList<string> Changed);

/// <summary>A new secret, shown once, and until when the previous one still works (null: not at all).</summary>
public sealed record RotatedSecret(string ClientId, string Secret, DateTimeOffset? PreviousValidUntil);

/// <summary>
/// Registers, updates, lists and removes clients, checking everything a partner could get wrong. Every change is an
/// audit row (<c>client.*</c>) naming the actor of this process and holding ids and field names only, saved in the
/// same transaction as the change.
/// </summary>
public sealed partial class ClientAdministration(
    ComplianceDbContext db,
    IHttpClientFactory http,
    IMemoryCache cache,
    IGrantRevocation revocation,
    IAuditTrail trail,
    IAuditActor actor,
    Microsoft.Extensions.Options.IOptions<OidcOptions> options,
    TimeProvider time,
    PolicySet? policies = null)
{
    /// <summary>The sector prefix of a client whose redirect URIs are on loopback (or that has none): see <see cref="ClientSector"/>.</summary>
    public const string ClientSectorPrefix = "client:";

    /// <summary>The scopes of the protocol itself, which rest on no purpose.</summary>
    public static readonly IReadOnlySet<string> ProtocolScopes = new HashSet<string>(StringComparer.Ordinal) { "openid", "offline_access" };

    /// <summary>
    /// The scopes this server can grant at the authorization endpoint: <see cref="ProtocolScopes"/> and the scopes of the
    /// policy's non-retired purposes. A client that signs patients in may only be registered with these. A client whose
    /// only grant is <c>client_credentials</c> may also carry its own API scopes (such as <c>reports.read</c>): they are
    /// granted to the client itself, never to a patient, and partners relied on them before this check existed.
    /// </summary>
    public IReadOnlySet<string> SupportedScopes => SupportedScopesOf(policies);

    /// <summary>
    /// See <see cref="SupportedScopes"/>: what <paramref name="policies"/> lets this server grant; only the
    /// <see cref="ProtocolScopes"/> on a host that loads no policies.
    /// </summary>
    public static IReadOnlySet<string> SupportedScopesOf(PolicySet? policies)
    {
        var scopes = new HashSet<string>(ProtocolScopes, StringComparer.Ordinal);
        scopes.UnionWith((policies?.Purposes ?? []).Where(purpose => !purpose.Retired).SelectMany(purpose => purpose.Scopes));
        return scopes;
    }

    /// <summary>The default overlap of <see cref="RotateSecretAsync"/>, and its bounds.</summary>
    public static readonly TimeSpan DefaultSecretOverlap = TimeSpan.FromMinutes(60);

    public static readonly TimeSpan MaxSecretOverlap = TimeSpan.FromHours(24);

    /// <summary>How long other nodes (and a running server, after a CLI change) may still use a client's previous settings.</summary>
    public static TimeSpan OtherNodesSeeChangesWithin => ClientRegistry.CacheFor;

    public static readonly IReadOnlySet<string> SupportedGrantTypes =
        new HashSet<string>(StringComparer.Ordinal) { "authorization_code", "refresh_token", "client_credentials" };

    public async Task<RegisteredClient> AddAsync(ClientRequest request, CancellationToken cancellationToken, string? fixedSecret = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = Validate(request, options.Value.AllowLoopbackHttpFetch, policies);
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
        var sharers = await db.Set<Client>().AsNoTracking().Where(c => c.Sector == sector)
            .OrderBy(c => c.ClientId).Select(c => new { c.ClientId, c.Kind }).ToListAsync(cancellationToken);
        var sharing = sharers.Select(c => c.ClientId).ToList();
        if (sharers.Any(c => (c.Kind == ClientKinds.Payer) != (request.Kind == ClientKinds.Payer)))
        {
            // Not even with --shared-sector: the payer would hold the identifier a care partner holds for the same patient.
            throw new ClientRegistrationException([
                $"sector: '{sector}' is the pairwise sector of {string.Join(", ", sharing)}; a payer or insurer never shares a sector with a partner "
                + "that is not one (or the reverse), whatever --shared-sector says. Give this client its own host (or sector_identifier_uri)."]);
        }

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
            ControllerName = request.ControllerName,
            DpoContact = request.DpoContact,
            NoticeUrl = request.NoticeUrl,
            Kind = request.Kind,
            WebhookUrl = request.WebhookUrl,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(client);
        trail.Append(AuditEventTypes.ClientRegistered, actor.Name, null, Details(new()
        {
            ["client_id"] = client.ClientId,
            ["type"] = client.Type,
            ["auth_method"] = client.TokenEndpointAuthMethod,
            ["sector"] = client.Sector,
            ["scopes"] = request.Scopes,
            ["grant_types"] = request.GrantTypes,
            ["shared_sector"] = sharing.Count > 0,
            ["kind"] = client.Kind,

            // The partner as controller: a legal person's name and its published contact and notice, validated above.
            ["controller_name"] = (object?)client.ControllerName ?? "",
            ["dpo_contact"] = (object?)client.DpoContact ?? "",
            ["notice_url"] = (object?)client.NoticeUrl ?? "",

            // Whether it has one, not the URL: a URI is not copied (it may carry a partner's token in its path).
            ["webhook"] = client.WebhookUrl is not null,
        }));
        await db.SaveChangesAsync(cancellationToken);
        return new RegisteredClient(client, secret) { SharesSectorWith = sharing };
    }

    /// <summary>
    /// Changes a registered client with the same checks as <see cref="AddAsync"/>. New redirect URIs must keep the
    /// client's pairwise sector: a new sector would give every patient another <c>sub</c> at this partner, so it is
    /// refused. Returns null for an unknown or removed client. This node sees the change at once, others within
    /// <see cref="ClientRegistry.CacheFor"/>.
    /// </summary>
    public async Task<UpdatedClient?> UpdateAsync(string clientId, ClientUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(update);
        var client = await db.Set<Client>().FirstOrDefaultAsync(c => c.ClientId == clientId && c.RemovedAt == null, cancellationToken);
        if (client is null)
        {
            return null;
        }

        var errors = new List<string>();
        if (update.ClearMinimumAcr && update.MinimumAcr is not null)
        {
            errors.Add("minimum acr: give a new value or clear it, not both.");
        }

        if (update.ClearBackchannelLogoutUri && update.BackchannelLogoutUri is not null)
        {
            errors.Add("backchannel_logout_uri: give a new value or clear it, not both.");
        }

        if (update.ClearWebhookUrl && update.WebhookUrl is not null)
        {
            errors.Add("webhook_url: give a new value or clear it, not both.");
        }

        var request = new ClientRequest(
            client.ClientId,
            update.DisplayName ?? client.DisplayName,
            client.Type,
            client.TokenEndpointAuthMethod,
            update.RedirectUris ?? client.RedirectUriList,
            update.PostLogoutRedirectUris ?? client.PostLogoutRedirectUriList,
            update.Scopes ?? client.ScopeList,
            client.AllowedGrantTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            client.Jwks,
            client.JwksUri,
            client.SectorIdentifierUri,
            client.IdTokenSignedResponseAlg,
            update.AccessTokenLifetimeSeconds ?? client.AccessTokenLifetimeSeconds,
            update.RefreshTokenSlidingLifetimeSeconds ?? client.RefreshTokenSlidingLifetimeSeconds,
            update.RefreshTokenAbsoluteLifetimeSeconds ?? client.RefreshTokenAbsoluteLifetimeSeconds,
            update.IdTokenLifetimeSeconds ?? client.IdTokenLifetimeSeconds,
            client.RequireConsent,
            client.RequirePushedAuthorizationRequests,
            update.ClearMinimumAcr ? null : update.MinimumAcr ?? client.MinimumAcr,
            update.ClearBackchannelLogoutUri ? null : update.BackchannelLogoutUri ?? client.BackchannelLogoutUri,
            ControllerName: update.ControllerName ?? client.ControllerName,
            DpoContact: update.DpoContact ?? client.DpoContact,
            NoticeUrl: update.NoticeUrl ?? client.NoticeUrl,
            Kind: client.Kind,
            WebhookUrl: update.ClearWebhookUrl ? null : update.WebhookUrl ?? client.WebhookUrl);
        errors.AddRange(Validate(request, options.Value.AllowLoopbackHttpFetch, policies));
        var redirectsChanged = !request.RedirectUris.SequenceEqual(client.RedirectUriList, StringComparer.Ordinal);
        if (errors.Count == 0 && redirectsChanged)
        {
            var sector = await ResolveSectorAsync(request, errors, cancellationToken);
            if (sector is not null && sector != client.Sector)
            {
                errors.Add($"sector: these redirect URIs would move the client from sector '{client.Sector}' to '{sector}', and every patient would get "
                    + "another identifier at this partner. Keep the redirect URIs on the sector's host (or list them in its sector_identifier_uri), "
                    + "or register a new client.");
            }
        }

        if (errors.Count > 0)
        {
            throw new ClientRegistrationException(errors);
        }

        var changed = new List<string>();
        Set(client.DisplayName, request.DisplayName, v => client.DisplayName = v, "display_name");
        Set(client.RedirectUris, string.Join(' ', request.RedirectUris), v => client.RedirectUris = v, "redirect_uris");
        Set(client.PostLogoutRedirectUris, string.Join(' ', request.PostLogoutRedirectUris), v => client.PostLogoutRedirectUris = v, "post_logout_redirect_uris");
        Set(client.AllowedScopes, string.Join(' ', request.Scopes), v => client.AllowedScopes = v, "scopes");
        Set(client.AccessTokenLifetimeSeconds, request.AccessTokenLifetimeSeconds, v => client.AccessTokenLifetimeSeconds = v, "access_token_lifetime");
        Set(client.IdTokenLifetimeSeconds, request.IdTokenLifetimeSeconds, v => client.IdTokenLifetimeSeconds = v, "id_token_lifetime");
        Set(client.RefreshTokenSlidingLifetimeSeconds, request.RefreshTokenSlidingLifetimeSeconds, v => client.RefreshTokenSlidingLifetimeSeconds = v,
            "refresh_sliding_lifetime");
        Set(client.RefreshTokenAbsoluteLifetimeSeconds, request.RefreshTokenAbsoluteLifetimeSeconds, v => client.RefreshTokenAbsoluteLifetimeSeconds = v,
            "refresh_absolute_lifetime");
        Set(client.MinimumAcr, request.MinimumAcr, v => client.MinimumAcr = v, "min_acr");
        Set(client.BackchannelLogoutUri, request.BackchannelLogoutUri, v => client.BackchannelLogoutUri = v, "backchannel_logout_uri");
        Set(client.ControllerName, request.ControllerName, v => client.ControllerName = v, "controller_name");
        Set(client.DpoContact, request.DpoContact, v => client.DpoContact = v, "dpo_contact");
        Set(client.NoticeUrl, request.NoticeUrl, v => client.NoticeUrl = v, "notice_url");
        Set(client.WebhookUrl, request.WebhookUrl, v => client.WebhookUrl = v, "webhook_url");
        if (changed.Count > 0)
        {
            // Field names only, as a display name or a URI is free text; but the controller's identity is what a patient
            // was shown, so its three validated fields are kept as they now stand.
            trail.Append(AuditEventTypes.ClientUpdated, actor.Name, null, Details(new()
            {
                ["client_id"] = client.ClientId,
                ["changed"] = changed,
                ["controller_name"] = (object?)client.ControllerName ?? "",
                ["dpo_contact"] = (object?)client.DpoContact ?? "",
                ["notice_url"] = (object?)client.NoticeUrl ?? "",
            }));
            await db.SaveChangesAsync(cancellationToken);
            cache.Remove(ClientRegistry.CacheKey(client.ClientId));
        }

        return new UpdatedClient(client, changed);

        void Set<T>(T current, T next, Action<T> assign, string field)
        {
            if (!EqualityComparer<T>.Default.Equals(current, next))
            {
                assign(next);
                changed.Add(field);
            }
        }
    }

    /// <summary>
    /// Gives a <c>client_secret_basic</c> client a new secret (returned once, stored as a hash) and keeps the previous
    /// one valid for <paramref name="overlap"/> (0 to <see cref="MaxSecretOverlap"/>), so the partner can deploy the
    /// new one without an outage. A secret older than the previous one stops working at once. Returns null for an
    /// unknown or removed client.
    /// </summary>
    public async Task<RotatedSecret?> RotateSecretAsync(string clientId, TimeSpan overlap, CancellationToken cancellationToken, string? fixedSecret = null)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (overlap < TimeSpan.Zero || overlap > MaxSecretOverlap)
        {
            throw new ClientRegistrationException(
                [string.Create(CultureInfo.InvariantCulture, $"overlap: 0 to {MaxSecretOverlap.TotalMinutes:0} minutes.")]);
        }

        var client = await db.Set<Client>().FirstOrDefaultAsync(c => c.ClientId == clientId && c.RemovedAt == null, cancellationToken);
        if (client is null)
        {
            return null;
        }

        if (client.TokenEndpointAuthMethod != ClientAuthMethods.SecretBasic)
        {
            throw new ClientRegistrationException(
                [$"client '{client.ClientId}' authenticates with {client.TokenEndpointAuthMethod}: only client_secret_basic clients have a secret to rotate."]);
        }

        var secret = fixedSecret ?? ClientSecrets.Generate();
        DateTimeOffset? until = overlap > TimeSpan.Zero ? time.GetUtcNow() + overlap : null;
        client.PreviousSecretHash = until is null ? null : client.SecretHash;
        client.PreviousSecretExpiresAt = until;
        client.SecretHash = ClientSecrets.Hash(secret);
        trail.Append(AuditEventTypes.ClientSecretRotated, actor.Name, null, Details(new()
        {
            ["client_id"] = client.ClientId,
            ["overlap_seconds"] = (long)overlap.TotalSeconds,
        }));
        await db.SaveChangesAsync(cancellationToken);
        cache.Remove(ClientRegistry.CacheKey(client.ClientId));
        return new RotatedSecret(client.ClientId, secret, until);
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
                    .SetProperty(c => c.PreviousSecretHash, (string?)null).SetProperty(c => c.PreviousSecretExpiresAt, (DateTimeOffset?)null)
                    .SetProperty(c => c.Jwks, (string?)null).SetProperty(c => c.JwksUri, (string?)null),
                cancellationToken);
        if (removed == 0)
        {
            return false;
        }

        // In the same transaction as the removal; families first, so an exchange in progress is waited for and revoked.
        await revocation.RevokeClientAsync(clientId, cancellationToken);
        trail.Append(AuditEventTypes.ClientRemoved, actor.Name, null, Details(new() { ["client_id"] = clientId }));
        await db.SaveChangesAsync(cancellationToken);
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

    private static List<string> Validate(ClientRequest request, bool allowLoopbackHttp, PolicySet? policies)
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
            errors.Add("backchannel_logout_uri: must be an absolute https URL without fragment or credentials, at most 2000 characters, not on a "
                + "private, loopback or link-local address (plain http, and loopback, only when Oidc:AllowLoopbackHttpFetch is true).");
        }

        if (request.WebhookUrl is not null && !WebhookUrls.IsAcceptable(request.WebhookUrl, allowLoopbackHttp))
        {
            errors.Add("webhook_url: must be an absolute https URL without fragment or credentials, at most 2000 characters, not on a private, "
                + "loopback or link-local address (plain http, and loopback, only when Oidc:AllowLoopbackHttpFetch is true).");
        }

        foreach (var uri in request.RedirectUris.Concat(request.PostLogoutRedirectUris))
        {
            if (IsPrivateUseRedirect(uri))
            {
                if (request.Type != ClientTypes.Public)
                {
                    errors.Add($"redirect URI '{uri}': a private-use scheme is for native apps, registered as public clients (--type public --auth none).");
                }
            }
            else if (!IsAcceptableRedirect(uri))
            {
                errors.Add($"redirect URI '{uri}': must be absolute, https (http only on loopback), without fragment or credentials; "
                    + "a native app may use a private-use scheme in reverse-domain form, such as com.example.app:/callback (RFC 8252 §7.1).");
            }
        }

        if (request.GrantTypes.Contains("authorization_code") && request.RedirectUris.Count == 0)
        {
            errors.Add("redirect URIs: the authorization_code grant needs at least one.");
        }

        ValidateController(request, policies, errors);

        // Custom API scopes: see SupportedScopes.
        var supportedScopes = SupportedScopesOf(policies);
        var clientCredentialsOnly = request.GrantTypes.Count > 0 && request.GrantTypes.All(g => g == "client_credentials");
        foreach (var scope in request.Scopes.Where(s => !supportedScopes.Contains(s)))
        {
            if (!ScopePattern().IsMatch(scope))
            {
                errors.Add($"scope '{scope}': lower-case letters, digits, '.', '_', ':' and '-', at most 64 characters.");
            }
            else if (!clientCredentialsOnly)
            {
                errors.Add($"scope '{scope}': not a scope this server grants; supported scopes: {string.Join(", ", supportedScopes.Order(StringComparer.Ordinal))}. "
                    + "Other scopes are accepted only for clients whose only grant is client_credentials.");
            }
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

    /// <summary>The longest accepted controller name, DPO contact and notice URL (the column lengths).</summary>
    public const int MaxControllerNameLength = 200;

    public const int MaxDpoContactLength = 320;

    public const int MaxNoticeUrlLength = 2000;

    // Each partner is its own controller (GDPR Art. 13(1)(a, b)): a patient asked for consent must see who receives the
    // data, how to reach its DPO and where its notice is. Values are not echoed: they are what was refused.
    private static void ValidateController(ClientRequest request, PolicySet? policies, List<string> errors)
    {
        if (request.ControllerName is not null && !IsAcceptableControllerName(request.ControllerName))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"controller name: 1 to {MaxControllerNameLength} printable characters, without line breaks or control characters."));
        }

        if (request.DpoContact is not null && !IsAcceptableDpoContact(request.DpoContact))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"DPO contact: a mailto: address (mailto:dpo@partner.example) or an absolute https URL without credentials or fragment, at most {MaxDpoContactLength} characters."));
        }

        if (request.NoticeUrl is not null && !IsAcceptableNoticeUrl(request.NoticeUrl))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"notice URL: an absolute https URL without credentials or fragment, at most {MaxNoticeUrlLength} characters."));
        }

        if (!ClientKinds.IsKnown(request.Kind))
        {
            errors.Add("kind: partner or payer.");
        }
        else if (request.Kind == ClientKinds.Payer)
        {
            // Named by scope only: the refusal tells the operator which scope to drop, not what a patient consulted for.
            foreach (var scope in request.Scopes.Where(scope => policies?.PurposeForScope(scope) is { ForbiddenToPayers: true }))
            {
                errors.Add($"scope '{scope}': a payer or insurer is never granted a care or special-category purpose.");
            }
        }

        var consentScopes = request.Scopes.Where(scope => policies?.PurposeForScope(scope) is { ConsentRequired: true }).ToList();
        if (consentScopes.Count > 0 && (request.ControllerName is null || request.DpoContact is null || request.NoticeUrl is null))
        {
            errors.Add($"controller: scope {string.Join(", ", consentScopes.Select(s => $"'{s}'"))} rests on consent, which the patient gives to this partner "
                + "as controller: register it with --controller-name, --dpo-contact and --notice-url.");
        }
    }

    internal static bool IsAcceptableControllerName(string value) =>
        value.Length is > 0 and <= MaxControllerNameLength && !string.IsNullOrWhiteSpace(value)
        && value.All(c => !char.IsControl(c) && char.GetUnicodeCategory(c) is not (UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned));

    internal static bool IsAcceptableDpoContact(string value) =>
        value.Length <= MaxDpoContactLength
        && (MailtoPattern().IsMatch(value) || IsPlainHttpsUrl(value));

    internal static bool IsAcceptableNoticeUrl(string value) => value.Length <= MaxNoticeUrlLength && IsPlainHttpsUrl(value);

    // https only: a javascript:, data: or http: link on a consent screen is a trap for the patient.
    private static bool IsPlainHttpsUrl(string value) =>
        !value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
        && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Length > 0
        && string.IsNullOrEmpty(uri.UserInfo) && string.IsNullOrEmpty(uri.Fragment);

    // One plain address, no query (a mailto: link with ?body= or several recipients is not a contact).
    [System.Text.RegularExpressions.GeneratedRegex("^mailto:[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\\z")]
    private static partial System.Text.RegularExpressions.Regex MailtoPattern();

    private async Task<string?> ResolveSectorAsync(ClientRequest request, List<string> errors, CancellationToken cancellationToken)
    {
        if (request.SectorIdentifierUri is null)
        {
            var hosts = request.RedirectUris.Select(u => new Uri(u))
                .Select(u => IsLoopbackHost(u) || u.Host.Length == 0 ? ClientSector(request.ClientId) : u.Host.ToLowerInvariant())
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

    /// <summary>
    /// A private-use URI scheme redirect of a native app (RFC 8252 §7.1): a reverse-domain scheme (it has a dot), a
    /// single slash and no authority, no fragment: <c>com.example.app:/callback</c>. It has no host, so its client
    /// gets its own sector (<see cref="ClientSector"/>).
    /// </summary>
    internal static bool IsPrivateUseRedirect(string value) =>
        value.Length <= 2000 && PrivateUseRedirectPattern().IsMatch(value)
        && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Host.Length == 0
        && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);

    internal static bool IsAcceptableRedirect(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo) && value.Length <= 2000;

    /// <summary>
    /// A back-channel logout URI is called by the provider like a partner document is fetched (<see cref="IsFetchable"/>),
    /// carries no fragment (OpenID Connect Back-Channel Logout 1.0 §2.2), and follows the webhooks' rules
    /// (<see cref="WebhookUrls.IsAcceptable"/>): the service posts to it, so never to an internal address either.
    /// </summary>
    internal static bool IsAcceptableBackchannelLogoutUri(string value, bool allowLoopbackHttp) =>
        value.Length <= 2000 && IsFetchable(value, allowLoopbackHttp) && WebhookUrls.IsAcceptable(value, allowLoopbackHttp);

    /// <summary>Partner documents are fetched over https only (http on loopback when the setting allows it, for tests).</summary>
    internal static bool IsFetchable(string? value, bool allowLoopbackHttp) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && string.IsNullOrEmpty(uri.UserInfo)
        && (uri.Scheme == Uri.UriSchemeHttps || (allowLoopbackHttp && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9._:-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ScopePattern();

    // Lower-case reverse-domain scheme, then ":/" and a path that does not start an authority; no fragment.
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+:/(?!/)[^#\\s]*$")]
    private static partial System.Text.RegularExpressions.Regex PrivateUseRedirectPattern();

    /// <summary>An audit row's details: ids, enumerated values, counts and field names only.</summary>
    private static string Details(Dictionary<string, object> details) => JsonSerializer.Serialize(details);

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
