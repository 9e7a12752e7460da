using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// Replays and reuses that race the legitimate use, hundreds of times, on both providers: whichever request wins,
/// the loser's revocation reaches every token the winner received.
/// </summary>
public abstract class TokenRaceTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private const int Pairs = 200;
    private readonly ComplianceFactory _factory = new(new Dictionary<string, string?>(stores.Settings) { ["Oidc:TokenRequestsPerSecond"] = "1000000" });
    private HttpClient _http = null!;
    private string _clientId = null!;

    // A host of its own per client: clients that share a host share a pairwise sector, which registration refuses.
    private string Redirect => $"https://{_clientId}.example/cb";

    public async Task InitializeAsync()
    {
        _clientId = "race-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        var registered = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(_clientId, "Race", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [Redirect], [],
                ["openid", "offline_access"], ["authorization_code", "refresh_token"], RequireConsent: false),
            CancellationToken.None);
        _http = _factory.CreateClient();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(_clientId)}:{Uri.EscapeDataString(registered.Secret!)}")));
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task CodeExchangedTwiceAtOnce_HundredsOfPairs_OneWinsAndItsTokensEndRevoked()
    {
        var codes = await SeedAsync(Pairs, SeedCode);

        var leaks = await RaceAsync(codes, code => new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Redirect, ["code_verifier"] = Verifier,
        });

        leaks.ShouldBe(0, $"after {Pairs} raced replays, no token issued from a replayed code may stay live");
    }

    [Fact]
    public async Task RefreshTokenUsedTwiceAtOnce_HundredsOfPairs_OneWinsAndItsTokensEndRevoked()
    {
        var tokens = await SeedAsync(Pairs, SeedRefreshToken);

        var leaks = await RaceAsync(tokens, token => new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = token });

        leaks.ShouldBe(0, $"after {Pairs} raced reuses, no token of a reused family may stay live");
    }

    [Fact]
    public async Task RefreshWithAWiderScope_IsRefusedAndDoesNotConsumeTheToken()
    {
        var token = (await SeedAsync(1, SeedRefreshToken))[0];

        var widened = await TokenAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = token, ["scope"] = "openid offline_access profile" });
        var retried = await TokenAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = token });

        widened.Status.ShouldBe(HttpStatusCode.BadRequest);
        widened.Body.GetProperty("error").GetString().ShouldBe("invalid_scope");
        retried.Status.ShouldBe(HttpStatusCode.OK, "the bad request did not burn the token, so the retry is not taken for a reuse");
    }

    [Fact]
    public async Task RefreshWithANarrowerScope_NarrowsThisAccessTokenOnly_TheRotatedTokenKeepsTheGrant()
    {
        var token = (await SeedAsync(1, SeedRefreshToken))[0];

        var narrowed = await TokenAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = token, ["scope"] = "offline_access" });
        var next = await TokenAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = narrowed.Body.GetProperty("refresh_token").GetString()! });

        narrowed.Status.ShouldBe(HttpStatusCode.OK);
        narrowed.Body.GetProperty("scope").GetString().ShouldBe("offline_access");
        next.Status.ShouldBe(HttpStatusCode.OK);
        next.Body.GetProperty("scope").GetString().ShouldBe("openid offline_access", "RFC 6749 §6: the original scope, not the narrowed one");
        next.Body.TryGetProperty("id_token", out _).ShouldBeTrue();
    }

    /// <summary>Sends each form twice at once (four pairs at a time); returns how many winners' tokens stayed live.</summary>
    private async Task<int> RaceAsync(IEnumerable<string> values, Func<string, Dictionary<string, string>> formFor)
    {
        var leaks = 0;
        await Parallel.ForEachAsync(values, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (value, _) =>
        {
            var form = formFor(value);
            var results = await Task.WhenAll(TokenAsync(form), TokenAsync(form));

            results.Count(r => r.Status == HttpStatusCode.OK).ShouldBeLessThanOrEqualTo(1, "each is used once");
            results.Count(r => r.Status == HttpStatusCode.BadRequest).ShouldBeGreaterThanOrEqualTo(1);
            foreach (var winner in results.Where(r => r.Status == HttpStatusCode.OK))
            {
                if (await IsLiveAsync(winner.Body))
                {
                    Interlocked.Increment(ref leaks);
                }
            }
        });
        return leaks;
    }

    private async Task<bool> IsLiveAsync(JsonElement tokens)
    {
        var introspected = await _http.PostAsync("/connect/introspect", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = tokens.GetProperty("access_token").GetString()! }));
        var active = JsonDocument.Parse(await introspected.Content.ReadAsStringAsync()).RootElement.GetProperty("active").GetBoolean();
        var refreshed = await TokenAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()! });
        return active || refreshed.Status == HttpStatusCode.OK;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> TokenAsync(Dictionary<string, string> form)
    {
        using var response = await _http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        response.StatusCode.ShouldNotBe(HttpStatusCode.InternalServerError);
        return (response.StatusCode, body);
    }

    private async Task<List<string>> SeedAsync(int count, Action<ComplianceDbContext, string, Guid, Guid, DateTimeOffset> seed)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var now = DateTimeOffset.UtcNow;
        var values = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var family = Guid.CreateVersion7();
            var subject = Guid.CreateVersion7();
            db.Add(new TokenFamily { FamilyId = family, ClientId = _clientId, SubjectId = subject, CreatedAt = now });
            seed(db, value, family, subject, now);
            values.Add(value);
        }

        await db.SaveChangesAsync();
        return values;
    }

    private static string HashOf(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value)));

    private void SeedCode(ComplianceDbContext db, string code, Guid family, Guid subject, DateTimeOffset now) => db.Add(new AuthorizationCode
    {
        CodeHash = HashOf(code),
        IssuanceId = family,
        ClientId = _clientId,
        SubjectId = subject,
        RedirectUri = Redirect,
        Scope = "openid offline_access",
        CodeChallenge = Challenge,
        SessionId = "race-session",
        AuthTime = now,
        Acr = "eidas1",
        Amr = "pwd",
        CreatedAt = now,
        ExpiresAt = now.AddMinutes(10),
    });

    private void SeedRefreshToken(ComplianceDbContext db, string token, Guid family, Guid subject, DateTimeOffset now) => db.Add(new RefreshToken
    {
        TokenHash = HashOf(token),
        FamilyId = family,
        ClientId = _clientId,
        SubjectId = subject,
        Scope = "openid offline_access",
        SessionId = "race-session",
        AuthTime = now,
        Acr = "eidas1",
        Amr = "pwd",
        CreatedAt = now,
        ExpiresAt = now.AddDays(1),
        AbsoluteExpiresAt = now.AddDays(30),
    });
}

public sealed class TokenRaceTests_Sqlite(SqliteStores stores) : TokenRaceTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class TokenRaceTests_Postgres(PostgresStores stores) : TokenRaceTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
