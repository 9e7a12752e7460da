using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.AzureKeyVault;

/// <summary>
/// Bearer authentication the way Key Vault asks for it: the first request goes without a token (and without its
/// body, which may hold a content key), the vault answers 401 with a challenge naming the resource and tenant, and the
/// request is sent again with a token for that resource. A challenge for a resource outside the vault's own domain
/// is refused before any token is requested, so that a hostile or misrouted endpoint never obtains a token usable
/// elsewhere (Microsoft Graph, Azure Resource Manager...). The token is cached until five minutes before it expires.
/// </summary>
internal sealed class KeyVaultChallengePolicy(TokenCredential credential, TimeProvider timeProvider, bool allowLoopbackHttp, ILogger logger)
    : HttpPipelinePolicy, IDisposable
{
    private const string StashedContent = "compliance-kek-stashed-content";
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Challenge? _challenge;
    private volatile CachedToken? _token;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The Key Vault key-encryption key is asynchronous only.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var uri = message.Request.Uri.ToUri();
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowLoopbackHttp && IsLoopback(uri.Host)))
        {
            throw new KeyCustodyException($"Refused to send a bearer token to '{uri.GetLeftPart(UriPartial.Authority)}' without TLS.");
        }

        if (_challenge is { } known)
        {
            await AuthorizeAsync(message, known).ConfigureAwait(false);
        }
        else if (message.Request.Content is { } content)
        {
            // No token yet: probe without the body, which may carry a content key, and put it back once challenged.
            message.SetProperty(StashedContent, content);
            message.Request.Content = null;
        }

        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        if (message.Response.Status != (int)HttpStatusCode.Unauthorized
            || !message.Response.Headers.TryGetValue("WWW-Authenticate", out var header))
        {
            return;
        }

        var challenge = Parse(uri, header);
        _challenge = challenge;
        if (message.TryGetProperty(StashedContent, out var stashed) && stashed is RequestContent body)
        {
            message.Request.Content = body;
        }

        await AuthorizeAsync(message, challenge).ConfigureAwait(false);
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }

    public void Dispose() => _gate.Dispose();

    private async ValueTask AuthorizeAsync(HttpMessage message, Challenge challenge)
    {
        var token = await TokenAsync(challenge, message.CancellationToken).ConfigureAwait(false);
        message.Request.Headers.SetValue(HttpHeader.Names.Authorization, "Bearer " + token);
    }

    private async ValueTask<string> TokenAsync(Challenge challenge, CancellationToken cancellationToken)
    {
        if (Fresh(_token, challenge) is { } fresh)
        {
            return fresh;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh(_token, challenge) is { } fetchedMeanwhile)
            {
                return fetchedMeanwhile;
            }

            AccessToken token;
            try
            {
                token = await credential.GetTokenAsync(new TokenRequestContext([challenge.Scope], tenantId: challenge.TenantId), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A token still valid outlives a failed refresh: Entra ID being briefly away must not stop the service.
                if (_token is { } cached && cached.Challenge == challenge && cached.Token.ExpiresOn > timeProvider.GetUtcNow())
                {
                    KeysLog.AzureKekTokenRefreshFailed(logger, challenge.Scope, e);
                    return cached.Token.Token;
                }

                throw new KeyCustodyException(
                    $"Could not get a token for Azure Key Vault (scope {challenge.Scope}) from {credential.GetType().Name} ({e.GetType().Name}); check Keys:AzureKeyVault:Credential and the identity's access.",
                    e);
            }

            _token = new CachedToken(challenge, token);
            KeysLog.AzureKekTokenAcquired(logger, challenge.Scope, token.ExpiresOn);
            return token.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string? Fresh(CachedToken? cached, Challenge challenge)
    {
        if (cached is null || cached.Challenge != challenge)
        {
            return null;
        }

        var now = timeProvider.GetUtcNow();
        var refreshAt = cached.Token.RefreshOn ?? cached.Token.ExpiresOn - RefreshMargin;
        return now < refreshAt && now < cached.Token.ExpiresOn ? cached.Token.Token : null;
    }

    /// <summary>Reads <c>Bearer authorization="…/{tenant}", resource="…"</c> (or <c>scope="…"</c>) and checks the resource belongs to the request's host.</summary>
    private Challenge Parse(Uri request, string header)
    {
        var parameters = Parameters(header);
        var resource = parameters.GetValueOrDefault("resource") ?? parameters.GetValueOrDefault("scope");
        var authorization = parameters.GetValueOrDefault("authorization") ?? parameters.GetValueOrDefault("authorization_uri");
        if (resource is null || !Uri.TryCreate(resource, UriKind.Absolute, out var resourceUri))
        {
            throw Refuse(request, resource, "it names no resource");
        }

        if (!Covers(resourceUri, request, allowLoopbackHttp))
        {
            throw Refuse(request, resource, "the resource is not the vault's own domain");
        }

        string? tenant = null;
        if (authorization is not null)
        {
            if (!Uri.TryCreate(authorization, UriKind.Absolute, out var authority) || authority.Scheme != Uri.UriSchemeHttps && !(allowLoopbackHttp && IsLoopback(authority.Host)))
            {
                throw Refuse(request, resource, "its authorization is not an https URL");
            }

            tenant = authority.AbsolutePath.Trim('/').Split('/')[0];
            if (tenant.Length == 0 || !AzureKeyVaultKekOptions.IsTenant(tenant) && !IsTenantName(tenant))
            {
                throw Refuse(request, resource, "its authorization names no tenant");
            }
        }

        var scope = parameters.ContainsKey("resource") || !resource.EndsWith("/.default", StringComparison.Ordinal)
            ? resource.TrimEnd('/') + "/.default"
            : resource;
        return new Challenge(scope, tenant);
    }

    /// <summary>
    /// The resource's host must be the request's host or a parent domain of it (vault.azure.net for
    /// myvault.vault.azure.net), on a label boundary: evilvault.azure.net does not cover vault.azure.net, and a
    /// bare top-level name covers nothing. An IP address covers only itself.
    /// </summary>
    internal static bool Covers(Uri resource, Uri request, bool allowLoopbackHttp)
    {
        if (resource.Scheme != Uri.UriSchemeHttps && !(allowLoopbackHttp && resource.Scheme == Uri.UriSchemeHttp && IsLoopback(resource.Host)))
        {
            return false;
        }

        var host = request.IdnHost;
        var resourceHost = resource.IdnHost;
        if (string.Equals(host, resourceHost, StringComparison.OrdinalIgnoreCase))
        {
            return resource.HostNameType != UriHostNameType.IPv4 && resource.HostNameType != UriHostNameType.IPv6 || resource.Port == request.Port;
        }

        return resource.HostNameType == UriHostNameType.Dns && request.HostNameType == UriHostNameType.Dns
            && resourceHost.Contains('.', StringComparison.Ordinal)
            && host.EndsWith("." + resourceHost, StringComparison.OrdinalIgnoreCase);
    }

    private KeyCustodyException Refuse(Uri request, string? resource, string reason)
    {
        var printable = AzureKeyVaultKekOptions.Printable(resource);
        KeysLog.AzureKekChallengeRefused(logger, request.Host, printable, reason);
        return new KeyCustodyException(
            $"Refused the authentication challenge of '{request.GetLeftPart(UriPartial.Authority)}' for resource '{printable}': {reason}. No token was requested or sent.");
    }

    private static Dictionary<string, string> Parameters(string header)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = header.AsSpan().Trim();
        if (!text.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return parameters;
        }

        text = text["Bearer ".Length..];
        while (!text.IsEmpty)
        {
            text = text.TrimStart([' ', ',']);
            var equals = text.IndexOf('=');
            if (equals <= 0)
            {
                break;
            }

            var name = text[..equals].Trim().ToString();
            text = text[(equals + 1)..].TrimStart();
            string value;
            if (text.StartsWith("\""))
            {
                var end = text[1..].IndexOf('"');
                if (end < 0)
                {
                    break;
                }

                value = text.Slice(1, end).ToString();
                text = text[(end + 2)..];
            }
            else
            {
                var end = text.IndexOf(',');
                value = (end < 0 ? text : text[..end]).Trim().ToString();
                text = end < 0 ? [] : text[end..];
            }

            // The first value wins: a repeated parameter cannot override what was already read.
            parameters.TryAdd(name, value);
        }

        return parameters;
    }

    private static bool IsTenantName(string value) =>
        value.Length <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static bool IsLoopback(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);

    private sealed record Challenge(string Scope, string? TenantId);

    private sealed record CachedToken(Challenge Challenge, AccessToken Token);
}
