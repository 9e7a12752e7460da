using Compliance.Server.Tests.Startup;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

using static Compliance.Server.Tests.Browser.DemoPartnerBrowser;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// Passkeys in a real headless Chromium, with Chromium's virtual authenticator (user verification on), against the real
/// server process: a patient adds a passkey on "Account security", signs out, signs in with it alone through a partner,
/// and the partner's ID token says eidas2 with <c>hwk</c> for a device-bound authenticator, <c>swk</c> for one whose
/// credentials are backup-eligible (synced). The issuer is <c>localhost</c>: WebAuthn refuses an IP address as RP id.
/// </summary>
public sealed class PasskeyBrowserTests : IAsyncLifetime
{
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
        using var browser = Chromium(_root, language);
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
        SignOut(browser, _site);

        browser.Navigate().GoToUrl(AuthorizeUrl(_site, "passkey", language));
        WaitFor(browser, By.Id("passkey-signin")).Click();
        var callback = ToPartner(browser);
        callback["state"].ToString().ShouldBe("passkey-" + language);
        var idToken = await ExchangeAsync(_server.BaseAddress, callback["code"].ToString());
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe([method, "mfa"]);
    }

    [Fact]
    public void PasswordSession_StepsUpWithThePasskey_ToReachAccountSecurity()
    {
        using var browser = Chromium(_root, "fr");
        AddVirtualAuthenticator(browser, synced: false);
        var pseudonym = "stepkey-" + Guid.NewGuid().ToString("N")[..8];
        SignUpThroughPartner(browser, "fr", pseudonym);
        browser.Navigate().GoToUrl(new Uri(_site, "account/security").ToString());
        WaitFor(browser, By.Id("passkey-add")).Click();
        WaitFor(browser, By.Id("passkeys"));
        SignOut(browser, _site);

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
        browser.Navigate().GoToUrl(AuthorizeUrl(_site, "passkey", language));
        WaitFor(browser, By.Id("signup-link")).Click();
        WaitFor(browser, By.Id("password_confirm"));
        browser.FindElement(By.Id("pseudonym")).SendKeys(pseudonym);
        browser.FindElement(By.Id("password")).SendKeys(Password);
        browser.FindElement(By.Id("password_confirm")).SendKeys(Password);
        browser.FindElement(By.Id("signup")).Click();
        ToPartner(browser);
    }

}
