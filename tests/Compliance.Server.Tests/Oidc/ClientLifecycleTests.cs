using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>What a removed client leaves behind, and what a pushed authorization request may store, in process, on both providers.</summary>
public abstract class ClientLifecycleTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Remove_ClientWithGrants_RevokesItsConsentsCodesAndTokensButNoOtherClients()
    {
        var removed = await RegisterAsync("removed");
        var kept = await RegisterAsync("kept");
        var subject = Guid.NewGuid();
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            foreach (var clientId in new[] { removed.Client.ClientId, kept.Client.ClientId })
            {
                SeedGrants(db, subject, clientId);
            }

            await db.SaveChangesAsync();
            (await scope.ServiceProvider.GetRequiredService<ClientAdministration>().RemoveAsync(removed.Client.ClientId, CancellationToken.None)).ShouldBeTrue();
        }

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            (await db.Set<ConsentGrant>().SingleAsync(g => g.ClientId == removed.Client.ClientId)).RevokedAt.ShouldNotBeNull("the remembered consent");
            (await db.Set<AuthorizationCode>().SingleAsync(c => c.ClientId == removed.Client.ClientId)).ConsumedAt.ShouldNotBeNull("the unused code");
            (await db.Set<RefreshToken>().SingleAsync(t => t.ClientId == removed.Client.ClientId)).RevokedAt.ShouldNotBeNull("the refresh token");
            (await db.Set<IssuedToken>().SingleAsync(t => t.ClientId == removed.Client.ClientId)).RevokedAt.ShouldNotBeNull("the access token record");
            (await db.Set<ConsentGrant>().SingleAsync(g => g.ClientId == kept.Client.ClientId)).RevokedAt.ShouldBeNull();
            (await db.Set<AuthorizationCode>().SingleAsync(c => c.ClientId == kept.Client.ClientId)).ConsumedAt.ShouldBeNull();
            (await db.Set<RefreshToken>().SingleAsync(t => t.ClientId == kept.Client.ClientId)).RevokedAt.ShouldBeNull();
            (await db.Set<IssuedToken>().SingleAsync(t => t.ClientId == kept.Client.ClientId)).RevokedAt.ShouldBeNull();

            var administration = scope.ServiceProvider.GetRequiredService<ClientAdministration>();
            (await administration.FindAsync(removed.Client.ClientId, CancellationToken.None)).ShouldBeNull();
            (await administration.ListAsync(CancellationToken.None)).Select(c => c.ClientId).ShouldNotContain(removed.Client.ClientId);
            var again = await Should.ThrowAsync<ClientRegistrationException>(() => administration.AddAsync(
                Request(removed.Client.ClientId, "https://new-owner.example/cb"), CancellationToken.None));
            again.Message.ShouldContain("was removed");
        }
    }

    [Fact]
    public async Task Remove_OnThisNode_StopsTheClientAuthenticatingAtOnce()
    {
        var registered = await RegisterAsync("machine", grants: ["client_credentials"], scopes: ["reports.read"]);
        using var http = _factory.CreateClient();
        (await ClientCredentialsAsync(http, registered)).StatusCode.ShouldBe(HttpStatusCode.OK, "the client works and is now cached");

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().RemoveAsync(registered.Client.ClientId, CancellationToken.None);
        }

        var afterRemoval = await ClientCredentialsAsync(http, registered);
        afterRemoval.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await ErrorOf(afterRemoval)).ShouldBe("invalid_client");
    }

    [Theory]
    [InlineData("one value of 16 KB")]
    [InlineData("known values of 2 KB, 8 KB together")]
    [InlineData("non-ASCII values that escaping makes larger")]
    public async Task Par_OversizedParameters_AreInvalidRequestAndNotStored(string shape)
    {
        var registered = await RegisterAsync("par");
        var parameters = PushedParameters(registered.Client.ClientId);
        switch (shape)
        {
            case "one value of 16 KB":
                parameters["id_token_hint"] = new string('a', 16_000);
                break;
            case "known values of 2 KB, 8 KB together":
                foreach (var name in new[] { "state", "login_hint", "ui_locales", "acr_values" })
                {
                    parameters[name] = new string('v', 2_000);
                }

                break;
            default:
                parameters["login_hint"] = new string('é', 2_000);
                break;
        }

        using var http = _factory.CreateClient();
        var response = await PushAsync(http, registered, parameters);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ErrorOf(response)).ShouldBe("invalid_request");
        (await StoredRequestsAsync(registered.Client.ClientId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Par_UnknownParameters_AreIgnoredAndNotStored()
    {
        var registered = await RegisterAsync("par-extra");
        var parameters = PushedParameters(registered.Client.ClientId);
        for (var i = 0; i < 30; i++)
        {
            parameters[$"x_extra_{i}"] = new string('x', 4_000);
        }

        using var http = _factory.CreateClient();
        var response = await PushAsync(http, registered, parameters);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var stored = (await StoredRequestsAsync(registered.Client.ClientId)).ShouldHaveSingleItem();
        JsonSerializer.Deserialize<Dictionary<string, string>>(stored)!.Keys.Order(StringComparer.Ordinal).ShouldBe(
            ["client_id", "code_challenge", "code_challenge_method", "redirect_uri", "response_type", "scope", "state"]);
    }

    private async Task<RegisteredClient> RegisterAsync(string prefix, string[]? grants = null, string[]? scopes = null)
    {
        var clientId = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            Request(clientId, $"https://{clientId}.example/cb", grants, scopes), CancellationToken.None);
    }

    private static ClientRequest Request(string clientId, string redirect, string[]? grants = null, string[]? scopes = null) =>
        new(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [redirect], [], scopes ?? ["openid"], grants ?? ["authorization_code"]);

    private static void SeedGrants(ComplianceDbContext db, Guid subject, string clientId)
    {
        var now = DateTimeOffset.UtcNow;
        var family = Guid.NewGuid();
        db.Add(new ConsentGrant { Id = Guid.NewGuid(), SubjectId = subject, ClientId = clientId, Scopes = "openid", CreatedAt = now, UpdatedAt = now });
        db.Add(new AuthorizationCode
        {
            CodeHash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()).PadRight(64, '0'), IssuanceId = family, ClientId = clientId, SubjectId = subject,
            RedirectUri = "https://x.example/cb", Scope = "openid", CodeChallenge = Challenge, SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd",
            CreatedAt = now, ExpiresAt = now.AddMinutes(1),
        });
        db.Add(new RefreshToken
        {
            TokenHash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()).PadRight(64, '1'), FamilyId = family, ClientId = clientId, SubjectId = subject,
            Scope = "openid", SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd", CreatedAt = now, ExpiresAt = now.AddDays(1), AbsoluteExpiresAt = now.AddDays(30),
        });
        db.Add(new IssuedToken { TokenId = Guid.NewGuid().ToString("N"), FamilyId = family, ClientId = clientId, SubjectId = subject, ExpiresAt = now.AddMinutes(5) });
    }

    private static Dictionary<string, string> PushedParameters(string clientId) => new()
    {
        ["response_type"] = "code",
        ["client_id"] = clientId,
        ["redirect_uri"] = $"https://{clientId}.example/cb",
        ["scope"] = "openid",
        ["state"] = "s",
        ["code_challenge"] = Challenge,
        ["code_challenge_method"] = "S256",
    };

    private static Task<HttpResponseMessage> ClientCredentialsAsync(HttpClient http, RegisteredClient registered) =>
        PostAsync(http, "/connect/token", registered, new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "reports.read" });

    private static Task<HttpResponseMessage> PushAsync(HttpClient http, RegisteredClient registered, Dictionary<string, string> parameters) =>
        PostAsync(http, "/connect/par", registered, parameters);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, RegisteredClient registered, Dictionary<string, string> parameters)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(parameters) };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{registered.Client.ClientId}:{registered.Secret}")));
        return await http.SendAsync(request);
    }

    private static async Task<string?> ErrorOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();

    private async Task<List<string>> StoredRequestsAsync(string clientId)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<PushedRequest>()
            .Where(r => r.ClientId == clientId).Select(r => r.Parameters).ToListAsync();
    }
}

public sealed class ClientLifecycleTests_Sqlite(SqliteStores stores) : ClientLifecycleTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientLifecycleTests_Postgres(PostgresStores stores) : ClientLifecycleTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
