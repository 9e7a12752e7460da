using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>A rotated client secret, through real token requests: the previous one works during the overlap only.</summary>
public abstract class ClientSecretRotationTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task RotateSecret_WithOverlap_BothSecretsWorkUntilTheOverlapEndsThenOnlyTheNewOne()
    {
        var registered = await RegisterAsync();
        using var http = _factory.CreateClient();
        (await TokenAsync(http, registered.Client.ClientId, registered.Secret!)).StatusCode.ShouldBe(HttpStatusCode.OK, "cached with the first secret");

        var rotated = await RotateAsync(registered.Client.ClientId, TimeSpan.FromMinutes(60));

        (await TokenAsync(http, registered.Client.ClientId, rotated.Secret)).StatusCode.ShouldBe(HttpStatusCode.OK, "the new secret, at once on this node");
        (await TokenAsync(http, registered.Client.ClientId, registered.Secret!)).StatusCode.ShouldBe(HttpStatusCode.OK, "the previous one, during the overlap");

        // The overlap ends: move its end into the past, and ask a node that has not cached the client yet.
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var client = await db.Set<Client>().SingleAsync(c => c.ClientId == registered.Client.ClientId);
            client.PreviousSecretExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync();
        }

        using var otherNode = new ComplianceFactory(stores.Settings);
        using var otherHttp = otherNode.CreateClient();
        var old = await TokenAsync(otherHttp, registered.Client.ClientId, registered.Secret!);
        old.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await old.Content.ReadAsStringAsync()).ShouldContain("invalid_client");
        (await TokenAsync(otherHttp, registered.Client.ClientId, rotated.Secret)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RotateSecret_WithoutOverlap_ThePreviousSecretStopsAtOnceOnThisNode()
    {
        var registered = await RegisterAsync();
        using var http = _factory.CreateClient();
        (await TokenAsync(http, registered.Client.ClientId, registered.Secret!)).StatusCode.ShouldBe(HttpStatusCode.OK, "cached with the first secret");

        var rotated = await RotateAsync(registered.Client.ClientId, TimeSpan.Zero);

        (await TokenAsync(http, registered.Client.ClientId, registered.Secret!)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await TokenAsync(http, registered.Client.ClientId, rotated.Secret)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientSecretRotated.Id, $"\"{registered.Client.ClientId}\"")).ShouldHaveSingleItem();
        row.Actor.ShouldStartWith("server:");
        row.AllText.ShouldNotContain(registered.Secret!);
        row.AllText.ShouldNotContain(rotated.Secret);
    }

    private async Task<RegisteredClient> RegisterAsync()
    {
        var clientId = "rotating-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [], [], ["reports.read"], ["client_credentials"]),
            CancellationToken.None);
    }

    private async Task<RotatedSecret> RotateAsync(string clientId, TimeSpan overlap)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<ClientAdministration>().RotateSecretAsync(clientId, overlap, CancellationToken.None))!;
    }

    private static async Task<HttpResponseMessage> TokenAsync(HttpClient http, string clientId, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "reports.read" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await http.SendAsync(request);
    }
}

public sealed class ClientSecretRotationTests_Sqlite(SqliteStores stores) : ClientSecretRotationTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientSecretRotationTests_Postgres(PostgresStores stores) : ClientSecretRotationTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
