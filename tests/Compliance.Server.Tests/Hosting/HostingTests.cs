using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Hosting;

public abstract class HostingTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Ready_BothStoresMigrated_AnswersHealthyForEach()
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync("/health/ready");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().ShouldBe("Healthy");
        body.GetProperty("checks").GetProperty("compliance-store").GetString().ShouldBe("Healthy");
        body.GetProperty("checks").GetProperty("vault-store").GetString().ShouldBe("Healthy");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Ready_SchemaBehindThisBuild_Answers503()
    {
        using var client = _factory.CreateClient();
        (await client.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();

        // Another node has migrated the store further than this build knows.
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO schema_history (version, name, checksum, applied_at, applied_by, execution_ms) VALUES (9999, 'future', 'x', {0}, 'test', 0)",
            stores.Provider == Data.Storage.DatabaseProvider.Sqlite ? "2026-01-01T00:00:00Z" : DateTimeOffset.UtcNow);
        try
        {
            var response = await client.GetAsync("/health/ready");

            response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            body.GetProperty("checks").GetProperty("compliance-store").GetString().ShouldBe("Unhealthy");
            body.GetProperty("checks").GetProperty("vault-store").GetString().ShouldBe("Healthy");
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync("DELETE FROM schema_history WHERE version = 9999");
        }
    }

    [Fact]
    public async Task Live_Always_Answers200()
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync("/health/live");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheHealthEndpoints()
    {
        using var client = _factory.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        document.GetProperty("openapi").GetString()!.ShouldStartWith("3.");
        var paths = document.GetProperty("paths");
        paths.TryGetProperty("/health/live", out _).ShouldBeTrue();
        paths.TryGetProperty("/health/ready", out _).ShouldBeTrue();
    }

    [Theory]
    [InlineData("/no-such-page", 404, "not_found")]
    [InlineData("/health/%C3%28", 404, "not_found")]
    [InlineData("/health/live/../../../../etc/passwd", 404, "not_found")]
    public async Task UnknownPath_AnyShape_AnswersProblemJsonWithStableCode(string path, int status, string code)
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync(path);

        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().ShouldBe(code);
        problem.GetProperty("status").GetInt32().ShouldBe(status);
    }

    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    [Theory]
    [InlineData("fr-FR,fr;q=0.9,en;q=0.8", "fr", "Page introuvable", "Cette adresse ne mène à aucune page de ce service. Vérifiez-la, ou repartez de votre espace.", "Mes autorisations")]
    [InlineData("en-GB,en;q=0.9", "en", "Page not found", "This address leads to no page of this service. Check it, or start again from your space.", "My authorisations")]
    public async Task UnknownPath_BrowserNavigation_AnswersAPageInThePatientsLanguage(string acceptLanguage, string language, string title, string sentence, string home)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);
        request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);

        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'none'");
        var html = await response.Content.ReadAsStringAsync();
        Attribute(html, "html", "lang").ShouldBe(language);
        Text(html, "status-message").ShouldBe(sentence);
        Heading(html).ShouldBe(title);
        Text(html, "status-home-link").ShouldBe(home);
        Attribute(html, "#status-home-link", "href").ShouldBe("/account");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Failure_IsAPageForABrowser_ProblemJsonOtherwise_AndNeverShowsTheException(bool browser)
    {
        using var factory = _factory.WithWebHostBuilder(host => host.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new FailingPath())));
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, FailingPath.Path);
        request.Headers.TryAddWithoutValidation("Accept", browser ? BrowserAccept : "application/json");
        request.Headers.TryAddWithoutValidation("Accept-Language", "fr-FR");

        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        var body = await response.Content.ReadAsStringAsync();
        body.ShouldNotContain(FailingPath.Secret);
        body.ShouldNotContain(nameof(InvalidOperationException));
        if (browser)
        {
            response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            Text(body, "status-message").ShouldBe("Le service n'a pas pu traiter cette demande. Réessayez dans un moment, ou repartez de votre espace.");
        }
        else
        {
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().ShouldBe("internal_error");
        }
    }

    /// <summary>A path that throws, added behind the application's own pipeline, as a bug would.</summary>
    private sealed class FailingPath : IStartupFilter
    {
        public const string Path = "/test-failure";
        public const string Secret = "pseudonym lune-42 and token abc";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Map(Path, failing => failing.Run(_ => throw new InvalidOperationException(Secret)));
        };
    }

    [Fact]
    public async Task WrongMethod_BrowserNavigation_Answers405Page()
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/privacy") { Content = new StringContent("") };
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);

        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await response.Content.ReadAsStringAsync();
        Attribute(html, "html", "lang").ShouldBe("fr");
        Text(html, "status-message").ShouldBe("Cette page ne s'utilise pas de cette façon. Repartez de votre espace et recommencez.");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("application/json, text/html;q=0.5")]
    public async Task UnknownPath_NotABrowserNavigation_KeepsProblemJson(string? accept)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().ShouldBe("not_found");
    }

    [Theory]
    [InlineData("GET", "/connect/token", 405, "method_not_allowed")]
    [InlineData("GET", "/health/no-such-check", 404, "not_found")]
    [InlineData("GET", "/.well-known/no-such-document", 404, "not_found")]
    public async Task ApiPath_BrowserAccept_KeepsProblemJson(string method, string path, int status, string code)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);

        var response = await client.SendAsync(request);

        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().ShouldBe(code);
    }

    [Fact]
    public async Task TokenEndpoint_BrowserAccept_StillAnswersOAuthJson()
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);

        var response = await client.SendAsync(request);

        ((int)response.StatusCode).ShouldBeInRange(400, 401);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Ready_WrongMethod_Answers405ProblemJson()
    {
        using var client = _factory.CreateClient();

        var response = await client.PostAsync("/health/ready", new StringContent("{}"));

        response.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().ShouldBe("method_not_allowed");
    }

    [Fact]
    public async Task Ready_HostileQueryString_IsIgnoredNot500()
    {
        using var client = _factory.CreateClient();
        var query = string.Join('&', Enumerable.Range(0, 500).Select(i => $"a{i}=%FF%FE%00{new string('x', 10)}"));

        var response = await client.GetAsync($"/health/ready?{query}&a1=dup");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/no-such-page")]
    public async Task AnyResponse_CarriesTheSecurityHeaders(string path)
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync(path);

        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("frame-ancestors 'none'");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer");
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        response.Headers.Contains("Server").ShouldBeFalse();
    }

    [Fact]
    public async Task Https_Request_GetsHsts_PlainHttpDoesNot()
    {
        using var https = _factory.CreateClient(new() { BaseAddress = new Uri("https://compliance.example") });
        using var http = _factory.CreateClient(new() { BaseAddress = new Uri("http://compliance.example") });

        var secure = await https.GetAsync("/health/live");
        var plain = await http.GetAsync("/health/live");

        secure.Headers.GetValues("Strict-Transport-Security").Single().ShouldContain("max-age=31536000");
        plain.Headers.Contains("Strict-Transport-Security").ShouldBeFalse();
    }

    [Fact]
    public async Task Start_SamePolicySetTwice_RecordsItsActivationOnce()
    {
        using (var first = new ComplianceFactory(stores.Settings))
        {
            using var client = first.CreateClient();
            (await client.GetAsync("/health/live")).EnsureSuccessStatusCode();
        }

        using var client2 = _factory.CreateClient();
        (await client2.GetAsync("/health/live")).EnsureSuccessStatusCode();

        await using var scope = _factory.Services.CreateAsyncScope();
        var events = await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<AuditEvent>()
            .Where(e => e.EventId == AuditEventTypes.PolicySetActivated.Id).ToListAsync();
        events.Count.ShouldBe(1);
        events[0].Details!.ShouldContain("fingerprint");
    }
}

public sealed class HostingTests_Sqlite(SqliteStores stores) : HostingTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class HostingTests_Postgres(PostgresStores stores) : HostingTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
