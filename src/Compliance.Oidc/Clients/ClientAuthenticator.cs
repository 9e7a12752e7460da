using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Clients;

/// <summary>
/// Authenticates the client of a back-channel request (token, PAR, introspection, revocation): HTTP Basic with a
/// secret, a <c>private_key_jwt</c> assertion (RFC 7523), or, for a public client, its bare <c>client_id</c>.
/// Exactly one method, and the one registered for the client; anything else is <c>invalid_client</c>.
/// </summary>
internal sealed class ClientAuthenticator(
    ClientRegistry registry,
    ComplianceDbContext db,
    IHttpClientFactory http,
    IMemoryCache cache,
    IOptions<OidcOptions> options,
    TimeProvider time)
{
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<Client> AuthenticateAsync(HttpRequest request, ProtocolParameters parameters, string endpointPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        var basic = ReadBasic(request);
        var assertion = parameters["client_assertion"];
        if (parameters["client_secret"] is not null)
        {
            throw Invalid("client_secret_post is not supported; use HTTP Basic authentication.");
        }

        if (basic is not null && assertion is not null)
        {
            throw Invalid("Use exactly one client authentication method.");
        }

        if (basic is { } credentials)
        {
            if (parameters["client_id"] is { } bodyId && bodyId != credentials.ClientId)
            {
                throw Invalid("client_id does not match the authenticated client.");
            }

            var client = await registry.FindAsync(credentials.ClientId, cancellationToken);
            if (client is null || client.TokenEndpointAuthMethod != ClientAuthMethods.SecretBasic || !ClientSecrets.Matches(client, credentials.Secret, time.GetUtcNow()))
            {
                throw Invalid("Client authentication failed.");
            }

            return client;
        }

        if (assertion is not null)
        {
            return await AuthenticateAssertionAsync(parameters, assertion, cancellationToken);
        }

        var clientId = parameters["client_id"] ?? throw Invalid("Client authentication is required.");
        var publicClient = await registry.FindAsync(clientId, cancellationToken);
        return publicClient is { TokenEndpointAuthMethod: ClientAuthMethods.None }
            ? publicClient
            : throw Invalid("Client authentication failed.");
    }

    private async Task<Client> AuthenticateAssertionAsync(ProtocolParameters parameters, string assertion, CancellationToken cancellationToken)
    {
        if (parameters["client_assertion_type"] != JwtBearerAssertionType)
        {
            throw Invalid("client_assertion_type must be " + JwtBearerAssertionType + ".");
        }

        JsonWebToken unverified;
        try
        {
            unverified = new JsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            throw Invalid("client_assertion is not a JWT.");
        }

        var clientId = unverified.Issuer;
        if (string.IsNullOrEmpty(clientId) || (parameters["client_id"] is { } bodyId && bodyId != clientId))
        {
            throw Invalid("Client authentication failed.");
        }

        var client = await registry.FindAsync(clientId, cancellationToken);
        if (client is null || client.TokenEndpointAuthMethod != ClientAuthMethods.PrivateKeyJwt)
        {
            throw Invalid("Client authentication failed.");
        }

        // FAPI 2.0 and RFC 7523bis: the audience is the issuer identifier, exactly, as a single string. An endpoint URL
        // or an array would let an assertion made for another server, or another endpoint, be replayed here.
        var issuer = options.Value.IssuerUri;
        if (!AudienceIsExactly(unverified, issuer))
        {
            throw Invalid("Client authentication failed.");
        }

        var result = await Handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = clientId,
            ValidAudience = issuer,
            IssuerSigningKeys = await ClientKeysAsync(client, cancellationToken),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidAlgorithms = ["ES256", "ES384", "RS256", "PS256"],
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } e && e > time.GetUtcNow().UtcDateTime.AddSeconds(-30) && e < time.GetUtcNow().UtcDateTime.AddMinutes(10)
                && (notBefore is null || notBefore <= time.GetUtcNow().UtcDateTime.AddSeconds(30)),
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken token || token.Subject != clientId
            || !token.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti))
        {
            throw Invalid("Client authentication failed.");
        }

        // RFC 7523 §3: a jti is used once. The primary key turns a concurrent replay into a conflict.
        db.Add(new UsedAssertion
        {
            AssertionHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(clientId + "\n" + jti))),
            ExpiresAt = new DateTimeOffset(token.ValidTo, TimeSpan.Zero),
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            throw Invalid("client_assertion was already used.");
        }

        return client;
    }

    private static bool AudienceIsExactly(JsonWebToken token, string issuer)
    {
        try
        {
            using var payload = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
            return payload.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && payload.RootElement.TryGetProperty("aud", out var audience)
                && audience.ValueKind == System.Text.Json.JsonValueKind.String
                && string.Equals(audience.GetString(), issuer, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<SecurityKey>> ClientKeysAsync(Client client, CancellationToken cancellationToken)
    {
        if (client.Jwks is not null)
        {
            return [.. new JsonWebKeySet(client.Jwks).GetSigningKeys()];
        }

        var key = ("client-jwks", client.JwksUri);
        if (cache.TryGetValue(key, out IReadOnlyList<SecurityKey>? keys) && keys is not null)
        {
            return keys;
        }

        if (!ClientAdministration.IsFetchable(client.JwksUri, options.Value.AllowLoopbackHttpFetch))
        {
            throw Invalid("The client's jwks_uri is not an https URL.");
        }

        try
        {
            using var httpClient = http.CreateClient("compliance-fetch");
            var json = await httpClient.GetStringAsync(client.JwksUri, cancellationToken);
            keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
            cache.Set(key, keys, TimeSpan.FromMinutes(5));
            return keys;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException)
        {
            throw Invalid("The client's jwks_uri could not be read.");
        }
    }

    private static (string ClientId, string Secret)? ReadBasic(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return null;
        }

        if (!AuthenticationHeaderValue.TryParse(header, out var value) || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || value.Parameter is null || value.Parameter.Length > 1024)
        {
            throw Invalid("The Authorization header is malformed.");
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
            var separator = decoded.IndexOf(':', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw Invalid("The Authorization header is malformed.");
            }

            // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
            return (Uri.UnescapeDataString(decoded[..separator].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(separator + 1)..].Replace('+', ' ')));
        }
        catch (FormatException)
        {
            throw Invalid("The Authorization header is malformed.");
        }
    }

    private static OAuthException Invalid(string description) => new(OAuthErrors.InvalidClient, description);
}
