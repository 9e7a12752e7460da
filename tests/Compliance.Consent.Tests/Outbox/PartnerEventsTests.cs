using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Consent.Ledger;
using Compliance.Data;
using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Tests.Outbox;

/// <summary>
/// <c>GET /partner/v1/events</c> on a real Kestrel host: a partner pulls its own events in cursor order, page after
/// page, and never another partner's; every hostile parameter or credential gets a clear 4xx, never a 500.
/// </summary>
public abstract class PartnerEventsTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private WebApplication _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(stores.Settings).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
        });
        builder.Services.AddComplianceData(builder.Configuration, gateStartup: false);
        builder.Services.AddCompliancePolicies(builder.Configuration);
        builder.Services.AddComplianceKeys(builder.Configuration).AddComplianceOidc(builder.Configuration).AddComplianceConsent(builder.Configuration);
        _host = builder.Build();
        _host.UseComplianceOidc();
        _host.MapComplianceConsent();
        await _host.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_host.Urls.Single()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.StopAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Pull_ReturnsOnlyTheCallersEvents_InCursorOrder_PageAfterPage()
    {
        var mine = await WebhookDeliveryTests<TStores>.PartnerAsync(_host.Services, "pull-a", webhook: null);
        var theirs = await WebhookDeliveryTests<TStores>.PartnerAsync(_host.Services, "pull-b", webhook: null);
        var subject = Guid.CreateVersion7();
        var appended = new List<AppendedConsentEvent>();
        foreach (var (partner, state) in new[] { (mine, ConsentState.Given), (theirs, ConsentState.Given), (mine, ConsentState.Withdrawn), (theirs, ConsentState.Withdrawn), (mine, ConsentState.Given) })
        {
            appended.AddRange(await LedgerNodes.AppendAsync(_host.Services, WebhookDeliveryTests<TStores>.Draft(subject, partner, state)));
        }

        var first = await PullAsync(Basic(mine), "?limit=2");
        var second = await PullAsync(Basic(mine), $"?after={first.GetProperty("next_cursor").GetInt64()}&limit=2");
        var third = await PullAsync(Basic(mine), $"?after={second.GetProperty("next_cursor").GetInt64()}");

        var expected = appended.Where(e => e.Draft.ClientId == mine).ToList();
        var pages = Events(first).Concat(Events(second)).ToList();
        pages.Select(e => e.GetProperty("jti").GetGuid()).ShouldBe(expected.Select(e => e.EventId));
        pages.Select(e => e.GetProperty("cursor").GetInt64()).ShouldBe(expected.Select(e => e.LeafIndex));
        pages.Select(e => e.GetProperty("type").GetString()).ShouldBe(["consent.given", "consent.withdrawn", "consent.given"]);
        pages.ShouldAllBe(e => e.GetProperty("purpose").GetString() == "research");
        pages.Select(e => e.GetProperty("sub").GetString()).Distinct().ShouldHaveSingleItem().ShouldNotBe(subject.ToString());
        Events(third).ShouldBeEmpty();
        third.GetProperty("next_cursor").GetInt64().ShouldBe(expected[^1].LeafIndex, "an empty page keeps the cursor");
        var theirsSeen = Events(await PullAsync(Basic(theirs), "?limit=500")).Select(e => e.GetProperty("jti").GetGuid()).ToList();
        theirsSeen.ShouldBe(appended.Where(e => e.Draft.ClientId == theirs).Select(e => e.EventId));
        theirsSeen.ShouldNotContain(expected[0].EventId);
    }

    [Fact]
    public async Task Pull_WithItsOwnClientCredentialsToken_IsAccepted()
    {
        var partner = await WebhookDeliveryTests<TStores>.PartnerAsync(_host.Services, "pull-c", webhook: null);
        var token = await AccessTokenAsync(partner, subject: partner, patient: null);

        using var response = await GetAsync(new AuthenticationHeaderValue("Bearer", token), "");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("?after=-1", "bad_cursor")]
    [InlineData("?after=abc", "bad_cursor")]
    [InlineData("?after=1e3", "bad_cursor")]
    [InlineData("?after=99999999999999999999999999", "bad_cursor")]
    [InlineData("?after=", "bad_cursor")]
    [InlineData("?after=1&after=2", "bad_cursor")]
    [InlineData("?limit=0", "bad_limit")]
    [InlineData("?limit=501", "bad_limit")]
    [InlineData("?limit=-5", "bad_limit")]
    [InlineData("?limit=ten", "bad_limit")]
    [InlineData("?limit=99999999999999999999", "bad_limit")]
    [InlineData("?client_id=pull-b", "unknown_parameter")]
    public async Task Pull_HostileParameters_AreRefusedWithAProblemAndAStableCode(string query, string code)
    {
        var partner = await WebhookDeliveryTests<TStores>.PartnerAsync(_host.Services, "pull-d", webhook: null);

        using var response = await GetAsync(Basic(partner), query);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("code").GetString().ShouldBe(code);
    }

    [Fact]
    public async Task Pull_WithoutCredentials_WrongSecret_Garbage_OrAPatientsToken_Is401WithWwwAuthenticate()
    {
        var partner = await WebhookDeliveryTests<TStores>.PartnerAsync(_host.Services, "pull-e", webhook: null);
        var patientToken = await AccessTokenAsync(partner, subject: "pairwise-of-a-patient", patient: Guid.CreateVersion7());
        AuthenticationHeaderValue?[] attempts =
        [
            null,
            new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(partner + ":wrong-secret"))),
            new("Basic", "%%%not-base64%%%"),
            new("Bearer", "not.a.token"),
            new("Bearer", new string('a', 20_000)),
            new("Bearer", patientToken),
        ];

        foreach (var credentials in attempts)
        {
            using var response = await GetAsync(credentials, "");

            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, credentials?.Scheme);
            response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
        }
    }

    private async Task<JsonElement> PullAsync(AuthenticationHeaderValue credentials, string query)
    {
        using var response = await GetAsync(credentials, query);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<HttpResponseMessage> GetAsync(AuthenticationHeaderValue? credentials, string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/partner/v1/events" + query);
        request.Headers.Authorization = credentials;
        return await _http.SendAsync(request);
    }

    private static List<JsonElement> Events(JsonElement page) => [.. page.GetProperty("events").EnumerateArray()];

    private static AuthenticationHeaderValue Basic(string clientId) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{WebhookDeliveryTests<TStores>.Secret(clientId)}")));

    /// <summary>
    /// An access token as our token endpoint signs it: a client_credentials one (its subject is the client, no
    /// session), or a patient's (a pairwise subject, a session, and its record, as issuance stores it).
    /// </summary>
    private async Task<string> AccessTokenAsync(string clientId, string subject, Guid? patient)
    {
        var issuer = _host.Services.GetRequiredService<IOptions<OidcOptions>>().Value.IssuerUri;
        var tokenId = Guid.NewGuid().ToString("N");
        var claims = new Dictionary<string, object> { ["jti"] = tokenId, ["client_id"] = clientId, ["scope"] = "openid", ["sub"] = subject };
        if (patient is { } subjectId)
        {
            claims["sid"] = "session-1";
            claims["auth_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            await using var scope = _host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            db.Add(new IssuedToken { TokenId = tokenId, ClientId = clientId, SubjectId = subjectId, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(5) });
            await db.SaveChangesAsync();
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = issuer,
            Claims = claims,
            Expires = DateTime.UtcNow.AddMinutes(5),
            TokenType = "at+jwt",
            SigningCredentials = await _host.Services.GetRequiredService<ISigningKeys>().GetSigningCredentialsAsync("ES256", CancellationToken.None),
        });
    }
}

public sealed class PartnerEventsTests_Sqlite(SqliteStores stores) : PartnerEventsTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PartnerEventsTests_Postgres(PostgresStores stores) : PartnerEventsTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
