using Compliance.Server.Tests.Startup;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Chromium;
using OpenQA.Selenium.Support.UI;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// The sign-up, sign-in and consent pages in a real headless Chromium (Debian's), against the real server process:
/// what a patient sees and clicks, under the real Content-Security-Policy.
/// </summary>
public sealed class SignInPagesBrowserTests : IAsyncLifetime
{
    private const string Redirect = "http://127.0.0.1:5081/callback";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-browser-").FullName;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_root, "data"),
            ["Oidc:SeedDemo"] = "true",
        });
        await _server.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void NewPatient_SignsUpAndConsentsInFrench_PartnerGetsACodeAndIss()
    {
        using var browser = Chromium("fr");
        browser.Navigate().GoToUrl(AuthorizeUrl());

        browser.Title.ShouldStartWith("Connexion");
        browser.FindElement(By.TagName("main")).GetCssValue("max-width").ShouldBe("448px", "the stylesheet loads under the CSP");
        browser.FindElement(By.Id("signup-link")).Click();
        browser.FindElement(By.Id("pseudonym")).SendKeys("lune-" + Guid.NewGuid().ToString("N")[..8]);
        browser.FindElement(By.Id("password")).SendKeys("une phrase de passe assez longue");
        browser.FindElement(By.Id("password_confirm")).SendKeys("une phrase de passe assez longue");
        browser.FindElement(By.Id("signup")).Click();

        WaitFor(browser, By.Id("allow"));
        browser.FindElements(By.CssSelector(".alert")).ShouldBeEmpty();
        browser.FindElement(By.TagName("h1")).Text.ShouldBe("Autoriser Démo / Demo ?");
        browser.FindElement(By.CssSelector("ul.scopes")).Text.ShouldContain("identifiant pseudonyme propre à Démo / Demo");
        browser.PageSource.ShouldContain("ni votre identité civile");
        Screenshot(browser, "consent-fr.png");
        browser.FindElement(By.Id("allow")).Click();

        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.Url.StartsWith(Redirect, StringComparison.Ordinal));
        var callback = new Uri(browser.Url);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        query["code"].ToString().Length.ShouldBe(43);
        query["state"].ToString().ShouldBe("browser-state");
        query["iss"].ToString().ShouldBe(_server.BaseAddress.ToString().TrimEnd('/'));
    }

    [Fact]
    public void DemoPatient_SignsInInEnglish_WrongPasswordFirst_ThenConsents()
    {
        using var browser = Chromium("en-GB");
        browser.Navigate().GoToUrl(AuthorizeUrl());

        browser.Title.ShouldStartWith("Sign in");
        browser.FindElement(By.Id("pseudonym")).SendKeys("demo");
        browser.FindElement(By.Id("password")).SendKeys("not the password");
        browser.FindElement(By.Id("signin")).Click();
        WaitFor(browser, By.CssSelector(".alert")).Text.ShouldBe("Incorrect pseudonym or password.");

        browser.FindElement(By.Id("pseudonym")).SendKeys("demo");
        browser.FindElement(By.Id("password")).SendKeys("lavande-orage-2026");
        browser.FindElement(By.Id("signin")).Click();
        WaitFor(browser, By.Id("deny"));
        browser.FindElement(By.TagName("h1")).Text.ShouldBe("Allow Démo / Demo?");
        Screenshot(browser, "consent-en.png");
        browser.FindElement(By.Id("deny")).Click();

        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.Url.StartsWith(Redirect, StringComparison.Ordinal));
        browser.Url.ShouldContain("error=access_denied");
        browser.Url.ShouldNotContain("code=");
    }

    [Theory]
    [InlineData("fr", 390)]
    [InlineData("en", 390)]
    [InlineData("fr", 1280)]
    [InlineData("en", 1280)]
    public async Task FromConsent_ReachesMyAuthorisations_SeesPseudonym_RefusesStayingSignedIn_SignsIn_AndWithdraws(string language, int width)
    {
        var fr = language == "fr";
        using var browser = Chromium(language, width);
        browser.Navigate().GoToUrl(AuthorizeUrl());
        var pseudonym = "nav-" + Guid.NewGuid().ToString("N")[..8];
        browser.FindElement(By.Id("signup-link")).Click();
        WaitFor(browser, By.Id("signup-rules")).Text.ShouldStartWith(fr ? "Pseudonyme : de 3 à 32 caractères" : "Pseudonym: 3 to 32 characters");
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys("une phrase de passe assez longue");
        browser.FindElement(By.Id("password_confirm")).SendKeys("une phrase de passe assez longue");
        browser.FindElement(By.Id("signup")).Click();

        WaitFor(browser, By.Id("allow"));
        var consentUrl = browser.Url;
        browser.FindElement(By.TagName("html")).GetAttribute("lang").ShouldBe(language);
        browser.FindElement(By.Id("signed-in-pseudonym")).Text.ShouldBe(pseudonym);
        browser.FindElement(By.TagName("main")).Size.Width.ShouldBeLessThanOrEqualTo(width, $"the page fits a {width} px window");
        browser.FindElement(By.Id("offline_access")).Selected.ShouldBeFalse("staying signed in is never pre-ticked");
        browser.FindElement(By.Id("deny")).GetCssValue("background-color").ShouldBe(browser.FindElement(By.Id("allow")).GetCssValue("background-color"));
        Screenshot(browser, $"consent-{language}-{width}.png");

        browser.FindElement(By.Id("nav-authorizations")).Click();
        WaitFor(browser, By.Id("authorizations-intro"));
        browser.FindElement(By.TagName("h1")).Text.ShouldBe(fr ? "Mes autorisations" : "My authorisations");
        browser.FindElement(By.Id("signed-in-pseudonym")).Text.ShouldBe(pseudonym);

        // Back to the partner's request: allowed without staying signed in.
        browser.Navigate().GoToUrl(consentUrl);
        WaitFor(browser, By.Id("allow")).Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.Url.StartsWith(Redirect, StringComparison.Ordinal));
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(browser.Url).Query)["code"].ToString();
        code.Length.ShouldBe(43);

        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("demo-client:demo-client-secret-for-local-tries-only")));
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Redirect, ["code_verifier"] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        }));
        var tokens = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, tokens.ToString());
        tokens.TryGetProperty("id_token", out _).ShouldBeTrue();
        tokens.TryGetProperty("refresh_token", out _).ShouldBeFalse("the patient did not tick staying signed in");
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        (await UserInfoStatusAsync(accessToken)).ShouldBe(System.Net.HttpStatusCode.OK);

        // The patient withdraws from "My authorisations": the partner's token stops working at once.
        browser.Navigate().GoToUrl(new Uri(_server.BaseAddress, "account").ToString());
        WaitFor(browser, By.Id("withdraw-demo-client")).Click();
        WaitFor(browser, By.Id("withdrawn")).Text.ShouldStartWith(fr ? "Autorisation retirée" : "Authorisation withdrawn");
        browser.FindElements(By.Id("withdraw-demo-client")).ShouldBeEmpty();
        browser.FindElement(By.Id("no-authorizations")).Text.ShouldBe(fr ? "Aucun service n'a d'autorisation." : "No service holds an authorisation.");
        (await UserInfoStatusAsync(accessToken)).ShouldBe(System.Net.HttpStatusCode.Unauthorized);
    }

    private async Task<System.Net.HttpStatusCode> UserInfoStatusAsync(string accessToken)
    {
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.GetAsync("connect/userinfo");
        return response.StatusCode;
    }

    private string AuthorizeUrl() =>
        $"{_server.BaseAddress}connect/authorize?response_type=code&client_id=demo-client&redirect_uri={Uri.EscapeDataString(Redirect)}"
        + $"&scope=openid%20offline_access&state=browser-state&nonce=n&code_challenge={Challenge}&code_challenge_method=S256";

    private ChromeDriver Chromium(string language, int width = 1280)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", $"--window-size={width},900",
            $"--lang={language}", $"--user-data-dir={Directory.CreateDirectory(Path.Combine(_root, "chromium-" + Guid.NewGuid().ToString("N"))).FullName}");
        options.AddUserProfilePreference("intl.accept_languages", language);
        if (width < 500)
        {
            // Desktop Chromium will not make a window this narrow: the phone is emulated (390 CSS px, as an iPhone 12-15).
            options.EnableMobileEmulation(new ChromiumMobileEmulationDeviceSettings { Width = width, Height = 844, PixelRatio = 3, EnableTouchEvents = true, UserAgent = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36" });
        }

        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().ImplicitWait = TimeSpan.FromSeconds(5);
        return driver;
    }

    // A click returns before the next page has loaded: wait for an element that only the next page has.
    private static IWebElement WaitFor(ChromeDriver browser, By next) =>
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.FindElements(next).FirstOrDefault());

    private static void Screenshot(ChromeDriver browser, string name)
    {
        if (Environment.GetEnvironmentVariable("COMPLIANCE_SCREENSHOTS") is { Length: > 0 } folder)
        {
            browser.GetScreenshot().SaveAsFile(Path.Combine(folder, name));
        }
    }
}
