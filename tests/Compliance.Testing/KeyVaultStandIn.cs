using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Compliance.Testing;

/// <summary>
/// A local stand-in of the Azure Key Vault keys REST API, on a real Kestrel server bound to a free loopback port.
/// It follows the documented wire contract: <c>GET /keys/{name}[/{version}]</c> (a key bundle with the public JWK,
/// <c>key_ops</c> and <c>attributes.enabled</c>), <c>POST /keys/{name}/{version}/wrapkey</c> and <c>/unwrapkey</c>
/// (RSA-OAEP-256 with real RSA-2048 keys, base64url values), <c>api-version</c> required, bearer tokens required with
/// Key Vault's 401 challenge, and errors as <c>{"error":{"code","message"}}</c>. It also serves the App Service
/// managed identity token endpoint (<c>IDENTITY_ENDPOINT</c>/<c>IDENTITY_HEADER</c>), so that a real
/// <c>ManagedIdentityCredential</c> can sign in to it. A disabled version is still readable (with
/// <c>attributes.enabled=false</c>) but refuses wrapkey and unwrapkey with 403 Forbidden.
/// </summary>
public sealed class KeyVaultStandIn : IAsyncDisposable
{
    /// <summary>The key operations a key gets unless a test says otherwise.</summary>
    public static readonly IReadOnlyList<string> AllKeyOperations = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];

    private const string IdentityApiVersion = "2019-08-01";
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, KeyVersions> _keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (string Resource, DateTimeOffset ExpiresOn)> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _denied = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _throttleGate = new();
    private int _throttleRemaining;
    private int _throttleRetryAfterSeconds;
    private int _throttleStatus;
    private volatile string? _challengeResource;

    private KeyVaultStandIn(WebApplication app)
    {
        _app = app;
        app.Run(HandleAsync);
    }

    /// <summary>The vault's origin, <c>http://127.0.0.1:{port}</c> (no trailing slash): the resource its challenge names.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>The tenant its challenge names.</summary>
    public string TenantId { get; } = Guid.NewGuid().ToString("D");

    /// <summary>The App Service managed identity endpoint (<c>IDENTITY_ENDPOINT</c>).</summary>
    public string IdentityEndpoint => $"{Origin}/msi/token";

    /// <summary>The secret header value the identity endpoint requires (<c>IDENTITY_HEADER</c>).</summary>
    public string IdentityHeader { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Every access token issued so far, so that tests can look for them in logs and messages.</summary>
    public IReadOnlyCollection<string> IssuedTokens => [.. _tokens.Keys];

    /// <summary>Starts the stand-in on a free loopback port.</summary>
    public static async Task<KeyVaultStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var standIn = new KeyVaultStandIn(builder.Build());
        await standIn._app.StartAsync();
        standIn.Origin = standIn._app.Urls.Single().TrimEnd('/');
        return standIn;
    }

    /// <summary>The URL of a key, or of one of its versions.</summary>
    public string KeyUrl(string name, string? version = null) => version is null ? $"{Origin}/keys/{name}" : $"{Origin}/keys/{name}/{version}";

    /// <summary>Creates an RSA-2048 key with the given operations (all of them by default); returns its version.</summary>
    public string CreateKey(string name, IEnumerable<string>? keyOperations = null)
    {
        var versions = new KeyVersions([.. keyOperations ?? AllKeyOperations]);
        if (!_keys.TryAdd(name, versions))
        {
            throw new InvalidOperationException($"Key {name} exists.");
        }

        return versions.Add();
    }

    /// <summary>Adds a new current version to a key (a rotation in Key Vault); returns it.</summary>
    public string AddVersion(string name) => _keys[name].Add();

    /// <summary>The current (latest) version of a key.</summary>
    public string CurrentVersion(string name) => _keys[name].Current.Version;

    /// <summary>Disables one version of a key.</summary>
    public void Disable(string name, string version) => _keys[name].Find(version)!.Enabled = false;

    /// <summary>Answers 403 Forbidden to an operation (<c>get</c>, <c>wrapkey</c> or <c>unwrapkey</c>), as a missing permission does.</summary>
    public void Deny(string operation) => _denied[operation] = true;

    /// <summary>Answers the next <paramref name="count"/> authenticated vault requests with 429 and <c>Retry-After</c>.</summary>
    public void ThrottleNext(int count, int retryAfterSeconds)
    {
        lock (_throttleGate)
        {
            _throttleRemaining = count;
            _throttleRetryAfterSeconds = retryAfterSeconds;
            _throttleStatus = 429;
        }
    }

    /// <summary>Answers the next <paramref name="count"/> authenticated vault requests with a server error (503 by default), without <c>Retry-After</c>.</summary>
    public void FailNext(int count, int status = 503)
    {
        lock (_throttleGate)
        {
            _throttleRemaining = count;
            _throttleRetryAfterSeconds = -1;
            _throttleStatus = status;
        }
    }

    /// <summary>Makes its 401 challenge name another resource (a hostile endpoint), or its own again with null.</summary>
    public void ChallengeWithResource(string? resource) => _challengeResource = resource;

    /// <summary>
    /// How many requests it saw of a kind: <c>get</c>, <c>wrapkey</c>, <c>unwrapkey</c> (authenticated and routed),
    /// <c>token</c> (tokens issued), <c>challenge</c> (401 answered), <c>throttled</c> (429 answered), <c>failed</c> (server errors answered by <see cref="FailNext"/>),
    /// <c>authorization</c> (requests that carried an Authorization header), <c>challenged-with-body</c> (unauthenticated
    /// requests that carried a body, such as a content key sent before signing in).
    /// </summary>
    public int Count(string kind) => _counts.GetValueOrDefault(kind);

    /// <summary>Issues a token for a resource as the identity endpoint would (for a credential that is not Azure.Identity's).</summary>
    public (string Token, DateTimeOffset ExpiresOn) IssueToken(string resource)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var expiresOn = DateTimeOffset.UtcNow.Add(TokenLifetime);
        _tokens[token] = (resource.TrimEnd('/'), expiresOn);
        Increment("token");
        return (token, expiresOn);
    }

    /// <summary>
    /// Points Azure.Identity's App Service managed identity at this stand-in (<c>IDENTITY_ENDPOINT</c>,
    /// <c>IDENTITY_HEADER</c>) until the result is disposed. Environment variables are process-wide: use it only from
    /// tests that do not run in parallel with others that read them.
    /// </summary>
    public IDisposable UseAsManagedIdentity() => new EnvironmentScope(new Dictionary<string, string?>
    {
        ["IDENTITY_ENDPOINT"] = IdentityEndpoint,
        ["IDENTITY_HEADER"] = IdentityHeader,
        ["IDENTITY_SERVER_THUMBPRINT"] = null,
        ["IMDS_ENDPOINT"] = null,
        ["MSI_ENDPOINT"] = null,
        ["MSI_SECRET"] = null,
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.Authorization.Count > 0)
        {
            Increment("authorization");
        }

        if (request.Path.Equals("/msi/token", StringComparison.Ordinal))
        {
            await IdentityAsync(context);
            return;
        }

        if (request.Query["api-version"] is not { Count: 1 } apiVersion || apiVersion[0] is not ("7.4" or "7.5"))
        {
            await ErrorAsync(context, 400, "BadParameter", "The api-version query parameter is missing or not supported.");
            return;
        }

        if (!Authenticated(request))
        {
            Increment("challenge");
            if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
            {
                Increment("challenged-with-body");
            }

            var resource = _challengeResource ?? Origin;
            context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"{Origin}/{TenantId}\", resource=\"{resource}\"";
            await ErrorAsync(context, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }

        var failed = 0;
        lock (_throttleGate)
        {
            if (_throttleRemaining > 0)
            {
                _throttleRemaining--;
                if (_throttleStatus == 429)
                {
                    Increment("throttled");
                    context.Response.Headers.RetryAfter = _throttleRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    context.Response.StatusCode = 429;
                    context.Response.ContentType = "application/json";
                    return;
                }

                Increment("failed");
                failed = _throttleStatus;
            }
        }

        if (failed != 0)
        {
            await ErrorAsync(context, failed, "ServiceUnavailable", "The service is unavailable.");
            return;
        }

        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        if (segments.Length < 2 || segments[0] != "keys")
        {
            await ErrorAsync(context, 404, "NotFound", "No such route.");
            return;
        }

        var operation = request.Method == "GET" && segments.Length is 2 or 3 ? "get"
            : request.Method == "POST" && segments.Length == 4 && segments[3] is "wrapkey" or "unwrapkey" ? segments[3]
            : null;
        if (operation is null)
        {
            await ErrorAsync(context, 405, "BadParameter", "Unsupported operation.");
            return;
        }

        Increment(operation);
        if (_denied.ContainsKey(operation))
        {
            await ErrorAsync(context, 403, "Forbidden", $"The user, group or application does not have keys {operation} permission.");
            return;
        }

        var version = !_keys.TryGetValue(segments[1], out var key) ? null
            : segments.Length == 2 ? key.Current
            : key.Find(segments[2]);
        if (version is null)
        {
            await ErrorAsync(context, 404, "KeyNotFound", "A key with (name/id) was not found in this key vault.");
            return;
        }

        var kid = $"{Origin}/keys/{segments[1]}/{version.Version}";
        if (operation == "get")
        {
            await JsonAsync(context, 200, new
            {
                key = new
                {
                    kid,
                    kty = "RSA",
                    key_ops = key!.Operations,
                    n = Base64Url.EncodeToString(version.Parameters.Modulus),
                    e = Base64Url.EncodeToString(version.Parameters.Exponent),
                },
                attributes = new { enabled = version.Enabled, recoveryLevel = "Recoverable+Purgeable" },
            });
            return;
        }

        if (!version.Enabled)
        {
            await ErrorAsync(context, 403, "Forbidden", $"Operation {operation} is not allowed on a disabled key.");
            return;
        }

        var allowedOperation = operation == "wrapkey" ? "wrapKey" : "unwrapKey";
        if (!key!.Operations.Contains(allowedOperation))
        {
            await ErrorAsync(context, 403, "Forbidden", $"Operation {allowedOperation} is not permitted on this key.");
            return;
        }

        byte[] value;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.GetProperty("alg").GetString() != "RSA-OAEP-256")
            {
                await ErrorAsync(context, 400, "BadParameter", "Unsupported algorithm.");
                return;
            }

            value = Base64Url.DecodeFromChars(body.RootElement.GetProperty("value").GetString());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            await ErrorAsync(context, 400, "BadParameter", "The request body is not a key operation.");
            return;
        }

        byte[] result;
        try
        {
            result = operation == "wrapkey"
                ? version.Rsa.Encrypt(value, RSAEncryptionPadding.OaepSHA256)
                : version.Rsa.Decrypt(value, RSAEncryptionPadding.OaepSHA256);
        }
        catch (CryptographicException)
        {
            await ErrorAsync(context, 400, "BadParameter", "Bad parameter.");
            return;
        }

        await JsonAsync(context, 200, new { kid, value = Base64Url.EncodeToString(result) });
    }

    private async Task IdentityAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers["X-IDENTITY-HEADER"] != IdentityHeader)
        {
            await JsonAsync(context, 401, new { statusCode = 401, message = "Missing or wrong X-IDENTITY-HEADER." });
            return;
        }

        var resource = request.Query["resource"].ToString();
        if (request.Query["api-version"] != IdentityApiVersion || resource.Length == 0)
        {
            await JsonAsync(context, 400, new { statusCode = 400, message = "api-version 2019-08-01 and resource are required." });
            return;
        }

        var (token, expiresOn) = IssueToken(resource);
        await JsonAsync(context, 200, new
        {
            access_token = token,
            expires_on = expiresOn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            resource,
            token_type = "Bearer",
            client_id = request.Query["client_id"].ToString(),
        });
    }

    private bool Authenticated(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && _tokens.TryGetValue(header["Bearer ".Length..], out var token)
            && string.Equals(token.Resource, Origin, StringComparison.Ordinal)
            && token.ExpiresOn > DateTimeOffset.UtcNow;
    }

    private void Increment(string kind) => _counts.AddOrUpdate(kind, 1, (_, count) => count + 1);

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        JsonAsync(context, status, new { error = new { code, message } });

    private static async Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, body, body.GetType(), cancellationToken: context.RequestAborted);
    }

    private sealed class KeyVersions(HashSet<string> operations) : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly List<KeyVersion> _versions = [];

        public HashSet<string> Operations { get; } = operations;

        public KeyVersion Current
        {
            get
            {
                lock (_gate)
                {
                    return _versions[^1];
                }
            }
        }

        public string Add()
        {
            var version = new KeyVersion(Guid.NewGuid().ToString("N"), RSA.Create(2048));
            lock (_gate)
            {
                _versions.Add(version);
            }

            return version.Version;
        }

        public KeyVersion? Find(string version)
        {
            lock (_gate)
            {
                return _versions.FirstOrDefault(v => string.Equals(v.Version, version, StringComparison.OrdinalIgnoreCase));
            }
        }

        public void Dispose()
        {
            foreach (var version in _versions)
            {
                version.Rsa.Dispose();
            }
        }
    }

    private sealed class KeyVersion(string version, RSA rsa)
    {
        public string Version { get; } = version;

        public RSA Rsa { get; } = rsa;

        public RSAParameters Parameters { get; } = rsa.ExportParameters(includePrivateParameters: false);

        public volatile bool Enabled = true;
    }

    private sealed class EnvironmentScope : IDisposable
    {
        private readonly Dictionary<string, string?> _previous = [];

        public EnvironmentScope(Dictionary<string, string?> values)
        {
            foreach (var (name, value) in values)
            {
                _previous[name] = Environment.GetEnvironmentVariable(name);
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, value) in _previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
