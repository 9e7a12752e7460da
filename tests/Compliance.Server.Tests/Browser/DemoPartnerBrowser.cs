using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// The demo partner's side of a browser test, and the headless Chromium the patient drives: an authorization request,
/// consent when asked, the callback's query, the code exchange, and signing out on the provider's own pages.
/// </summary>
internal static class DemoPartnerBrowser
{
    public const string Redirect = "http://127.0.0.1:5081/callback";
    public const string Password = "une phrase de passe assez longue";
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    public static string AuthorizeUrl(Uri site, string state, string language) =>
        $"{site}connect/authorize?response_type=code&client_id=demo-client&redirect_uri={Uri.EscapeDataString(Redirect)}"
        + $"&scope=openid&state={state}-{language}&nonce=n-{language}&ui_locales={language}&code_challenge={Challenge}&code_challenge_method=S256";

    /// <summary>A headless Chromium in <paramref name="language"/>, with a profile of its own under <paramref name="root"/>.</summary>
    public static ChromeDriver Chromium(string root, string language)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1280,900",
            $"--lang={language}", $"--user-data-dir={Directory.CreateDirectory(Path.Combine(root, "chromium-" + Guid.NewGuid().ToString("N"))).FullName}");
        options.AddUserProfilePreference("intl.accept_languages", language);

        // The console is kept, so that a test can read what the page logged (a refused script or style is an error there).
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        // No implicit wait: every step waits explicitly for what only the next page has, and a check that an element is
        // absent (no alert) must not sit out a timeout.
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    // A click returns before the next page has loaded: wait for an element that only the next page has.
    public static IWebElement WaitFor(ChromeDriver browser, By next) =>
        new WebDriverWait(browser, TimeSpan.FromSeconds(15)).Until(d => d.FindElements(next).FirstOrDefault())!;

    /// <summary>Back to the provider's own pages (from the partner, too), and "Sign out" there.</summary>
    public static void SignOut(ChromeDriver browser, Uri site)
    {
        browser.Navigate().GoToUrl(new Uri(site, "account").ToString());
        WaitFor(browser, By.Id("nav-signout")).Click();
        WaitFor(browser, By.Id("signout")).Click();
        WaitFor(browser, By.Id("signed-out"));
    }

    /// <summary>Consents if asked, and returns the query of the partner's callback.</summary>
    public static Dictionary<string, Microsoft.Extensions.Primitives.StringValues> ToPartner(ChromeDriver browser)
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

    /// <summary>The demo partner exchanges the code; returns the ID token's claims.</summary>
    public static async Task<JsonElement> ExchangeAsync(Uri server, string code)
    {
        using var http = new HttpClient { BaseAddress = server };
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
}
