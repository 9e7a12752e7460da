using Compliance.Server.Tests.Startup;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
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

    private string AuthorizeUrl() =>
        $"{_server.BaseAddress}connect/authorize?response_type=code&client_id=demo-client&redirect_uri={Uri.EscapeDataString(Redirect)}"
        + $"&scope=openid%20offline_access&state=browser-state&nonce=n&code_challenge={Challenge}&code_challenge_method=S256";

    private ChromeDriver Chromium(string language)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            $"--lang={language}", $"--user-data-dir={Directory.CreateDirectory(Path.Combine(_root, "chromium-" + Guid.NewGuid().ToString("N"))).FullName}");
        options.AddUserProfilePreference("intl.accept_languages", language);
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
