using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Sessions;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A session that ends by itself (idle or absolute lifetime) is announced too: the partner that received an ID token
/// in it gets a logout token at its back-channel endpoint, a real HTTP listener here. On both providers.
/// </summary>
public abstract class BackChannelLogoutTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(new Dictionary<string, string?>(stores.Settings) { ["Oidc:AllowLoopbackHttpFetch"] = "true" });

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Session_PastItsIdleLifetime_EndsAndThePartnerIsToldByBackChannel()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/bcl/");
        listener.Start();
        var clientId = "bcl-" + Guid.NewGuid().ToString("N")[..8];
        var redirect = $"https://{clientId}.example/cb";
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [redirect], [], ["openid"], ["authorization_code"],
                    RequireConsent: false, BackchannelLogoutUri: $"http://127.0.0.1:{port}/bcl/"),
                CancellationToken.None);
        }

        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        var toSignIn = await patient.GetAsync($"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(redirect)}&scope=openid"
            + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var pseudonym = "idle-" + Guid.NewGuid().ToString("N")[..8];
        var atPartner = await patient.FollowAsync(await patient.SignUpAsync(pseudonym, "a long enough password", interaction));
        atPartner.Headers.Location!.ToString().ShouldStartWith(redirect + "?code=");

        // The patient walks away: the idle lifetime passes.
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var subject = await db.Set<Account>().Where(a => a.UserName == pseudonym).Select(a => a.Id).SingleAsync();
            await db.Set<BrowserSession>().Where(s => s.SubjectId == subject)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastSeenAt, DateTimeOffset.UtcNow.AddHours(-1)));
        }

        var received = await listener.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(received.Request.InputStream);
        var form = await reader.ReadToEndAsync();
        received.Response.StatusCode = 200;
        received.Response.Close();

        received.Request.HttpMethod.ShouldBe("POST");
        received.Request.ContentType!.ShouldStartWith("application/x-www-form-urlencoded");
        var token = new JsonWebToken(Uri.UnescapeDataString(form.Split("logout_token=")[1]));
        token.Typ.ShouldBe("logout+jwt");
        token.Audiences.ShouldBe([clientId]);
        token.TryGetPayloadValue<string>("sid", out var sid).ShouldBeTrue();
        sid.ShouldNotBeNullOrEmpty();
        token.TryGetPayloadValue<JsonElement>("events", out var events).ShouldBeTrue();
        events.TryGetProperty("http://schemas.openid.net/event/backchannel-logout", out _).ShouldBeTrue();
        token.TryGetPayloadValue<string>("nonce", out _).ShouldBeFalse();
        (await patient.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.Redirect, "the session has ended for the patient too");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

public sealed class BackChannelLogoutTests_Sqlite(SqliteStores stores) : BackChannelLogoutTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class BackChannelLogoutTests_Postgres(PostgresStores stores) : BackChannelLogoutTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
