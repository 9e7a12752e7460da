using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Server.Tests.Startup;
using Microsoft.AspNetCore.WebUtilities;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// Passkeys in a real headless Chromium, with Chromium's virtual authenticator (user verification on), against the real
/// server process: a patient adds a passkey on "Account security", signs out, signs in with it alone through a partner,
/// and the partner's ID token says eidas2 with <c>hwk</c> for a device-bound authenticator, <c>swk</c> for one whose
/// credentials are backup-eligible (synced). The issuer is <c>localhost</c>: WebAuthn refuses an IP address as RP id.
/// </summary>
public sealed class PasskeyBrowserTests : IAsyncLifetime
{
    private const string Redirect = "http://127.0.0.1:5081/callback";
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private const string Password = "une phrase de passe assez longue";
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-passkey-browser-").FullName;
    private ServerProcess _server = null!;
    private Uri _site = null!;

    public async Task InitializeAsync()
    {
        _server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_root, "data"),
            ["Oidc:SeedDemo"] = "true",
            ["Oidc:InteractiveRequestsPerMinute"] = "10000",
        }, issuerHost: "localhost");
        await _server.WaitUntilReadyAsync();
        _site = new Uri($"http://localhost:{_server.Port}/");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData("fr", false, "hwk")]
    [InlineData("en", false, "hwk")]
    [InlineData("fr", true, "swk")]
    [InlineData("en", true, "swk")]
    public async Task Patient_AddsAPasskey_SignsOut_SignsInWithItAlone_AndTheIdTokenSaysEidas2(string language, bool synced, string method)
    {
        using var browser = Chromium(language);
        AddVirtualAuthenticator(browser, synced);
        var pseudonym = "passkey-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, language, pseudonym);

        // A password session with no second factor lands on the set-up, where the passkey button shows (script on).
        browser.Navigate().GoToUrl(new Uri(_site, "account/security").ToString());
        WaitFor(browser, By.Id("passkey-name")).SendKeys("Mon téléphone");
        browser.FindElement(By.Id("passkey-add")).Click();
        WaitFor(browser, By.CssSelector("#passkeys .passkey-name")).Text.ShouldBe("Mon téléphone");
        browser.FindElement(By.CssSelector("#passkeys .hint")).Text.ShouldStartWith(synced
            ? (language == "fr" ? "synchronisée" : "synced")
            : (language == "fr" ? "liée à un seul appareil" : "bound to one device"));
        SignOut(browser);

        browser.Navigate().GoToUrl(AuthorizeUrl(language));
        WaitFor(browser, By.Id("passkey-signin")).Click();
        var callback = ToPartner(browser);
        callback["state"].ToString().ShouldBe("passkey-" + language);
        var idToken = await ExchangeAsync(callback["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe([method, "mfa"]);
    }

    [Fact]
    public void PasswordSession_StepsUpWithThePasskey_ToReachAccountSecurity()
    {
        using var browser = Chromium("fr");
        AddVirtualAuthenticator(browser, synced: false);
        var pseudonym = "stepkey-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, "fr", pseudonym);
        browser.Navigate().GoToUrl(new Uri(_site, "account/security").ToString());
        WaitFor(browser, By.Id("passkey-add")).Click();
        WaitFor(browser, By.Id("passkeys"));
        SignOut(browser);

        // The password alone: eidas1. "Account security" asks for the passkey, not for the password again.
        browser.Navigate().GoToUrl(new Uri(_site, "account/login").ToString());
        WaitFor(browser, By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("signin")).Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => new Uri(d.Url).AbsolutePath == "/account");
        browser.Navigate().GoToUrl(new Uri(_site, "account/security").ToString());
        new Uri(browser.Url).AbsolutePath.ShouldBe("/account/step-up");
        browser.FindElements(By.Id("code")).ShouldBeEmpty("no app: the passkey only");
        WaitFor(browser, By.Id("passkey-step-up")).Click();
        WaitFor(browser, By.Id("passkeys"));
        new Uri(browser.Url).AbsolutePath.ShouldBe("/account/security");
    }

    /// <summary>
    /// CDP's virtual authenticator: CTAP2, built in, resident keys, user verification done. Backup eligibility (and state)
    /// make its credentials look synced, as a phone's passkey manager's are.
    /// </summary>
    private static void AddVirtualAuthenticator(ChromeDriver browser, bool synced)
    {
        browser.ExecuteCdpCommand("WebAuthn.enable", new Dictionary<string, object?> { ["enableUI"] = false });
        browser.ExecuteCdpCommand("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object?>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
                ["defaultBackupEligibility"] = synced,
                ["defaultBackupState"] = synced,
            },
        });
    }

    /// <summary>Signs up from a partner's authorization request, and gives the partner its consent.</summary>
    private void SignUpThroughPartner(ChromeDriver browser, string language, string pseudonym)
    {
        browser.Navigate().GoToUrl(AuthorizeUrl(language));
        WaitFor(browser, By.Id("signup-link")).Click();
        WaitFor(browser, By.Id("password_confirm"));
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("password_confirm")).SendKeys(Password);
        browser.FindElement(By.Id("signup")).Click();
        ToPartner(browser);
    }

    private void SignOut(ChromeDriver browser)
    {
        browser.Navigate().GoToUrl(new Uri(_site, "account").ToString());
        WaitFor(browser, By.Id("nav-signout")).Click();
        WaitFor(browser, By.Id("signout")).Click();
        WaitFor(browser, By.Id("signed-out"));
    }

    /// <summary>Consents if asked, and returns the query of the partner's callback.</summary>
    private static Dictionary<string, Microsoft.Extensions.Primitives.StringValues> ToPartner(ChromeDriver browser)
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(15));
        wait.Until(d => d.Url.StartsWith(Redirect, StringComparison.Ordinal) || d.FindElements(By.Id("allow")).Count > 0);
        if (!browser.Url.StartsWith(Redirect, StringComparison.Ordinal))
        {
            browser.FindElement(By.Id("allow")).Click();
            wait.Until(d => d.Url.StartsWith(Redirect, StringComparison.Ordinal));
        }

        return QueryHelpers.ParseQuery(new Uri(browser.Url).Query);
    }

    private async Task<JsonElement> ExchangeAsync(string code)
    {
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("demo-client:demo-client-secret-for-local-tries-only")));
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Redirect, ["code_verifier"] = Verifier,
        }));
        var tokens = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, tokens.ToString());
        var payload = tokens.GetProperty("id_token").GetString()!.Split('.')[1];
        return JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(payload)).RootElement;
    }

    private string AuthorizeUrl(string language) =>
        $"{_site}connect/authorize?response_type=code&client_id=demo-client&redirect_uri={Uri.EscapeDataString(Redirect)}"
        + $"&scope=openid&state=passkey-{language}&nonce=n-{language}&ui_locales={language}&code_challenge={Challenge}&code_challenge_method=S256";

    private ChromeDriver Chromium(string language)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1280,900",
            $"--lang={language}", $"--user-data-dir={Directory.CreateDirectory(Path.Combine(_root, "chromium-" + Guid.NewGuid().ToString("N"))).FullName}");
        options.AddUserProfilePreference("intl.accept_languages", language);
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static IWebElement WaitFor(ChromeDriver browser, By next) =>
        new WebDriverWait(browser, TimeSpan.FromSeconds(15)).Until(d => d.FindElements(next).FirstOrDefault());
}
