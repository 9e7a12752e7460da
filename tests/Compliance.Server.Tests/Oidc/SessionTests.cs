using System.Net;
using System.Text.RegularExpressions;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Sessions;
using Compliance.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>The sign-in session, in process, on both providers.</summary>
public abstract class SessionTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Session_OfAnErasedAccount_NoLongerReachesAnything()
    {
        var clientId = "session-" + Guid.NewGuid().ToString("N")[..8];
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [RedirectFor(clientId)], [], ["openid"], ["authorization_code"], RequireConsent: false),
                CancellationToken.None);
        }

        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var authorize = $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectFor(clientId))}&scope=openid"
            + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
        var toSignIn = await browser.GetAsync(authorize);
        var signUpPage = await browser.GetStringAsync(toSignIn.Headers.Location!.ToString().Replace("/account/login", "/account/signup", StringComparison.Ordinal));
        var pseudonym = "erased-" + Guid.NewGuid().ToString("N")[..8];
        var signedUp = await browser.PostAsync("/account/signup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(signUpPage, "__RequestVerificationToken"),
            ["interaction"] = Hidden(signUpPage, "interaction"),
            ["pseudonym"] = pseudonym,
            ["password"] = "a long enough password",
            ["password_confirm"] = "a long enough password",
        }));
        var resumed = await browser.GetAsync(signedUp.Headers.Location);
        resumed.Headers.Location!.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=");
        (await browser.GetAsync(authorize)).Headers.Location!.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=", customMessage: "the session works");

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<Account>().Where(a => a.UserName == pseudonym).ExecuteDeleteAsync();
        }

        var afterErasure = await browser.GetAsync(authorize);
        afterErasure.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        afterErasure.Headers.Location!.ToString().ShouldStartWith("/account/login?interaction=");
    }

    [Fact]
    public async Task SignOut_CopiedCookieTakenBefore_NoLongerOpensTheAccountNorGetsACode()
    {
        var clientId = await RegisterAsync(requireConsent: false);
        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        using var thief = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        (await patient.SignUpAsync("copied-" + Guid.NewGuid().ToString("N")[..8], "a long enough password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        patient.CopyCookiesTo(thief);
        (await thief.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.OK, "the copied cookie works while the session is open");

        var confirm = await (await patient.GetAsync("/connect/endsession")).Content.ReadAsStringAsync();
        var signedOut = await patient.PostFormAsync("/connect/endsession", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(confirm, "__RequestVerificationToken"),
            ["confirm"] = "1",
        });

        signedOut.StatusCode.ShouldBe(HttpStatusCode.OK);
        var account = await thief.GetAsync("/account");
        account.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        account.Headers.Location!.ToString().ShouldStartWith("/account/login");
        var authorize = await thief.GetAsync(AuthorizeUrl(clientId) + "&prompt=none");
        authorize.Headers.Location!.ToString().ShouldContain("error=login_required");
    }

    [Fact]
    public async Task Session_PastItsAbsoluteLifetime_IsRefusedHoweverActive()
    {
        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        var pseudonym = "absolute-" + Guid.NewGuid().ToString("N")[..8];
        await patient.SignUpAsync(pseudonym, "a long enough password");
        (await patient.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Twelve hours pass while the patient stays active: only the absolute end moves into the past.
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var subject = await db.Set<Account>().Where(a => a.UserName == pseudonym).Select(a => a.Id).SingleAsync();
            await db.Set<BrowserSession>().Where(s => s.SubjectId == subject)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.AbsoluteExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        var account = await patient.GetAsync("/account");
        account.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        account.Headers.Location!.ToString().ShouldStartWith("/account/login");
    }

    [Fact]
    public async Task ConsentPost_AfterTheAccountWasDeleted_GivesNoCode()
    {
        var clientId = await RegisterAsync(requireConsent: true);
        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        var toSignIn = await patient.GetAsync(AuthorizeUrl(clientId));
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var pseudonym = "deleted-" + Guid.NewGuid().ToString("N")[..8];
        var consentPage = await patient.FollowAsync(await patient.SignUpAsync(pseudonym, "a long enough password", interaction));
        var html = await consentPage.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"allow\"");

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<Account>().Where(a => a.UserName == pseudonym).ExecuteDeleteAsync();
        }

        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(html, "interaction"),
            ["decision"] = "allow",
        });

        (decided.Headers.Location?.ToString() ?? "").ShouldNotContain("code=");
    }

    private async Task<string> RegisterAsync(bool requireConsent)
    {
        var clientId = "session-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [RedirectFor(clientId)], [], ["openid"], ["authorization_code"], RequireConsent: requireConsent),
            CancellationToken.None);
        return clientId;
    }

    // A host of its own per client: clients that share a host share a pairwise sector, which registration refuses.
    private static string RedirectFor(string clientId) => $"https://{clientId}.example/cb";

    private static string AuthorizeUrl(string clientId) =>
        $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectFor(clientId))}&scope=openid"
        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

    private static string Hidden(string html, string name) =>
        System.Net.WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Groups[1].Value);
}

public sealed class SessionTests_Sqlite(SqliteStores stores) : SessionTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SessionTests_Postgres(PostgresStores stores) : SessionTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
