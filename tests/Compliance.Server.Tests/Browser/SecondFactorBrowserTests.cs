using Compliance.Server.Tests.Startup;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

using static Compliance.Server.Tests.Browser.DemoPartnerBrowser;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// The authenticator app (TOTP) in a real headless Chromium against the real server process, on real time: a patient
/// sets it up on "Account security" reading the key off the page, signs in again through a partner with the app's
/// code, and the partner's ID token says two factors; a recovery code stands in once, and the second time it is refused
/// on the page. Codes are computed as an app computes them (<see cref="AuthenticatorApp"/>).
/// </summary>
public sealed class SecondFactorBrowserTests : IAsyncLifetime
{
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
        using var browser = Chromium(_root, language);
        var pseudonym = "appli-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, language, pseudonym);
        var enrolment = Enrol(browser, pseudonym);
        SignOut(browser, _server.BaseAddress);

        PasswordStep(browser, language, pseudonym);
        var step = AuthenticatorApp.NextUsableStep(enrolment.Step);
        browser.FindElement(By.Id("code")).SendKeys(AuthenticatorApp.CodeAt(enrolment.Key, step));
        browser.FindElement(By.Id("verify")).Click();
        var callback = ToPartner(browser);

        callback["state"].ToString().ShouldBe("totp-" + language);
        var idToken = await ExchangeAsync(_server.BaseAddress, callback["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);
        idToken.GetProperty("nonce").GetString().ShouldBe("n-" + language);
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("en")]
    public async Task RecoveryCode_AtSignIn_StandsInOnce_AndTheSecondTimeIsRefusedOnThePage(string language)
    {
        using var browser = Chromium(_root, language);
        var pseudonym = "secours-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, language, pseudonym);
        var recoveryCode = Enrol(browser, pseudonym).RecoveryCodes[3];
        SignOut(browser, _server.BaseAddress);

        PasswordStep(browser, language, pseudonym);
        browser.FindElement(By.Id("recovery_code")).SendKeys(recoveryCode);
        browser.FindElement(By.Id("verify")).Click();
        var idToken = await ExchangeAsync(_server.BaseAddress, ToPartner(browser)["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2", "a recovery code is a second factor too");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);
        SignOut(browser, _server.BaseAddress);

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
        browser.Navigate().GoToUrl(AuthorizeUrl(_server.BaseAddress, "totp", language));
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

    /// <summary>A partner's authorization request, pseudonym and password: what follows is the second step.</summary>
    private void PasswordStep(ChromeDriver browser, string language, string pseudonym)
    {
        browser.Navigate().GoToUrl(AuthorizeUrl(_server.BaseAddress, "totp", language));
        WaitFor(browser, By.Id("signin"));
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("signin")).Click();
        WaitFor(browser, By.Id("second-factor-intro")).Text.ShouldBe(language == "fr"
            ? "Votre mot de passe est correct. Saisissez le code à 6 chiffres affiché par votre application d'authentification."
            : "Your password is correct. Enter the 6-digit code your authenticator app shows.");
    }

    private sealed record Enrolment(string Key, long Step, IReadOnlyList<string> RecoveryCodes);
}
