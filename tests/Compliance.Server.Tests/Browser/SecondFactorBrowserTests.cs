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
/// The authenticator app (TOTP) in a real headless Chromium against the real server process, on real time: a patient
/// sets it up on "Account security" reading the key off the page, signs in again through a partner with the app's
/// code, and the partner's ID token says two factors; a recovery code stands in once, and the second time it is refused
/// on the page. Codes are computed as an app computes them (<see cref="AuthenticatorApp"/>).
/// </summary>
public sealed class SecondFactorBrowserTests : IAsyncLifetime
{
    private const string Redirect = "http://127.0.0.1:5081/callback";
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private const string Password = "une phrase de passe assez longue";
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-totp-browser-").FullName;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _server = ServerProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_root, "data"),
            ["Oidc:SeedDemo"] = "true",
            ["Oidc:InteractiveRequestsPerMinute"] = "10000",
        });
        await _server.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("en")]
    public async Task EnrolledPatient_SignsInThroughAPartnerWithTheAppCode_IdTokenSaysEidas2(string language)
    {
        using var browser = Chromium(language);
        var pseudonym = "appli-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, language, pseudonym);
        var enrolment = Enrol(browser, pseudonym);
        SignOut(browser);

        PasswordStep(browser, language, pseudonym);
        var step = AuthenticatorApp.NextUsableStep(enrolment.Step);
        browser.FindElement(By.Id("code")).SendKeys(AuthenticatorApp.CodeAt(enrolment.Key, step));
        browser.FindElement(By.Id("verify")).Click();
        var callback = ToPartner(browser);

        callback["state"].ToString().ShouldBe("totp-" + language);
        var idToken = await ExchangeAsync(callback["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);
        idToken.GetProperty("nonce").GetString().ShouldBe("n-" + language);
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("en")]
    public async Task RecoveryCode_AtSignIn_StandsInOnce_AndTheSecondTimeIsRefusedOnThePage(string language)
    {
        using var browser = Chromium(language);
        var pseudonym = "secours-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, language, pseudonym);
        var recoveryCode = Enrol(browser, pseudonym).RecoveryCodes[3];
        SignOut(browser);

        PasswordStep(browser, language, pseudonym);
        browser.FindElement(By.Id("recovery_code")).SendKeys(recoveryCode);
        browser.FindElement(By.Id("verify")).Click();
        var idToken = await ExchangeAsync(ToPartner(browser)["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2", "a recovery code is a second factor too");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);
        SignOut(browser);

        PasswordStep(browser, language, pseudonym);
        browser.FindElement(By.Id("recovery_code")).SendKeys(recoveryCode);
        browser.FindElement(By.Id("verify")).Click();

        // Still the second step, with the reason in the page's alert, and no session behind it: a recovery code's reason,
        // not the phone's clock.
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.FindElements(By.CssSelector(".alert")).Count > 0 || !d.Url.StartsWith(_server.BaseAddress.ToString(), StringComparison.Ordinal));
        browser.Url.ShouldNotStartWith(Redirect, customMessage: "a recovery code works once");
        browser.FindElement(By.CssSelector(".alert")).Text.ShouldBe(language == "fr"
            ? "Ce code de secours n'est pas valable : il est mal saisi, ou il a déjà servi (chacun ne sert qu'une fois)."
            : "This recovery code is not valid: it is mistyped, or it was already used (each one works once).");
        browser.FindElement(By.Id("second-factor-intro")).Displayed.ShouldBeTrue();
        new Uri(browser.Url).AbsolutePath.ShouldBe("/account/login/second-factor");
        browser.Navigate().GoToUrl(new Uri(_server.BaseAddress, "account").ToString());
        new Uri(browser.Url).AbsolutePath.ShouldBe("/account/login", "a refused recovery code opens no session");
    }

    /// <summary>Signs up from a partner's authorization request, and waits for whatever page follows the sign-up.</summary>
    private void SignUpThroughPartner(ChromeDriver browser, string language, string pseudonym)
    {
        browser.Navigate().GoToUrl(AuthorizeUrl(language));
        WaitFor(browser, By.Id("signup-link")).Click();
        WaitFor(browser, By.Id("password_confirm"));
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("password_confirm")).SendKeys(Password);
        browser.FindElement(By.Id("signup")).Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => new Uri(d.Url).AbsolutePath != "/account/signup");
        browser.FindElements(By.CssSelector(".alert")).ShouldBeEmpty();
    }

    /// <summary>
    /// Sets up the app from "Account security", wherever that address leads a signed-in patient, with the key the
    /// page shows and the code of the current step; returns the key, that step and the recovery codes shown once.
    /// </summary>
    private Enrolment Enrol(ChromeDriver browser, string pseudonym)
    {
        browser.Navigate().GoToUrl(new Uri(_server.BaseAddress, "account/security").ToString());
        WaitFor(browser, By.Id("totp-begin")).Click();
        var key = WaitFor(browser, By.Id("totp-key")).Text;
        key.ShouldMatch("^[A-Z2-7]{32}$", "160 bits in base32");
        browser.FindElement(By.Id("totp-uri")).GetDomAttribute("href").ShouldStartWith($"otpauth://totp/Compliance:{pseudonym}?secret={key}");

        var step = AuthenticatorApp.CurrentStep();
        browser.FindElement(By.Id("code")).SendKeys(AuthenticatorApp.CodeAt(key, step));
        browser.FindElement(By.Id("totp-confirm")).Click();

        WaitFor(browser, By.Id("totp-enabled"));
        var codes = browser.FindElements(By.CssSelector("#recovery-codes li code")).Select(c => c.Text).ToList();
        codes.Count.ShouldBe(10);
        codes.ShouldAllBe(c => System.Text.RegularExpressions.Regex.IsMatch(c, "^[2-9A-Z]{5}-[2-9A-Z]{5}$"));
        return new Enrolment(key, step, codes);
    }

    /// <summary>Back to the provider's own pages (from the partner, too), and "Sign out" there.</summary>
    private void SignOut(ChromeDriver browser)
    {
        browser.Navigate().GoToUrl(new Uri(_server.BaseAddress, "account").ToString());
        WaitFor(browser, By.Id("nav-signout")).Click();
        WaitFor(browser, By.Id("signout")).Click();
        WaitFor(browser, By.Id("signed-out"));
    }

    /// <summary>A partner's authorization request, pseudonym and password: what follows is the second step.</summary>
    private void PasswordStep(ChromeDriver browser, string language, string pseudonym)
    {
        browser.Navigate().GoToUrl(AuthorizeUrl(language));
        WaitFor(browser, By.Id("signin"));
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("signin")).Click();
        WaitFor(browser, By.Id("second-factor-intro")).Text.ShouldBe(language == "fr"
            ? "Votre mot de passe est correct. Saisissez le code à 6 chiffres affiché par votre application d'authentification."
            : "Your password is correct. Enter the 6-digit code your authenticator app shows.");
    }

    /// <summary>Consents if asked, and returns the query of the partner's callback.</summary>
    private static Dictionary<string, Microsoft.Extensions.Primitives.StringValues> ToPartner(ChromeDriver browser)
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(10));
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
        $"{_server.BaseAddress}connect/authorize?response_type=code&client_id=demo-client&redirect_uri={Uri.EscapeDataString(Redirect)}"
        + $"&scope=openid&state=totp-{language}&nonce=n-{language}&ui_locales={language}&code_challenge={Challenge}&code_challenge_method=S256";

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
        // No implicit wait: every step waits explicitly for what only the next page has, and a check that an element is
        // absent (no alert) must not sit out a timeout.
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    // A click returns before the next page has loaded: wait for an element that only the next page has.
    private static IWebElement WaitFor(ChromeDriver browser, By next) =>
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(d => d.FindElements(next).FirstOrDefault());

    private sealed record Enrolment(string Key, long Step, IReadOnlyList<string> RecoveryCodes);
}
