using System.Net;
using System.Text.RegularExpressions;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>The sign-in session, in process, on both providers.</summary>
public abstract class SessionTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Redirect = "https://partner.example/cb";
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
                new ClientRequest(clientId, "Partner", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [Redirect], [], ["openid"], ["authorization_code"], RequireConsent: false),
                CancellationToken.None);
        }

        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var authorize = $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(Redirect)}&scope=openid"
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
        resumed.Headers.Location!.ToString().ShouldStartWith(Redirect + "?code=");
        (await browser.GetAsync(authorize)).Headers.Location!.ToString().ShouldStartWith(Redirect + "?code=", customMessage: "the session works");

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<Account>().Where(a => a.UserName == pseudonym).ExecuteDeleteAsync();
        }

        var afterErasure = await browser.GetAsync(authorize);
        afterErasure.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        afterErasure.Headers.Location!.ToString().ShouldStartWith("/account/login?interaction=");
    }

    private static string Hidden(string html, string name) =>
        System.Net.WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Groups[1].Value);
}

public sealed class SessionTests_Sqlite(SqliteStores stores) : SessionTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SessionTests_Postgres(PostgresStores stores) : SessionTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
