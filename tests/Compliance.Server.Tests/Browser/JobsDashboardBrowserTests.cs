using System.Text.RegularExpressions;
using Compliance.Server.Tests.Startup;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

using static Compliance.Server.Tests.Browser.DemoPartnerBrowser;

namespace Compliance.Server.Tests.Browser;

/// <summary>
/// The job dashboard in a real headless Chromium against the real server process, which runs its job server (and so
/// registers the reconciler): a staff administrator added with <c>compliance staff add</c> asks for the dashboard, signs
/// in on the way with a password and an authenticator app, and reads its home, its recurring jobs and its servers,
/// under the dashboard's Content-Security-Policy, with not one error in the console.
/// </summary>
public sealed partial class JobsDashboardBrowserTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-jobs-browser-").FullName;
    private Dictionary<string, string?> _settings = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_root, "data"),
            ["Oidc:InteractiveRequestsPerMinute"] = "10000",
        };
        _server = ServerProcess.Start(_settings);
        await _server.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Admin_SignsInOnTheWay_AndReadsHomeRecurringJobsAndServers_WithoutAConsoleError()
    {
        var name = "ops." + Guid.NewGuid().ToString("N")[..8];
        var initial = await AddStaffAsync(name, "admin");
        using var browser = Chromium(_root, "fr");

        browser.Navigate().GoToUrl(Url("staff/jobs"));
        FirstStaffSignIn(browser, name, initial);
        _ = ConsoleErrors(browser); // the staff sign-in pages' own, tested elsewhere
        browser.FindElement(By.Id("staff-continue")).Click();

        // Home: its scripts ran (the live chart is drawn) and its statistics were polled, with the antiforgery header.
        WaitFor(browser, By.CssSelector("#realtimeGraph"));
        new Uri(browser.Url).AbsolutePath.ShouldBe("/staff/jobs");
        browser.Title.ShouldContain("Compliance jobs");
        new WebDriverWait(browser, TimeSpan.FromSeconds(15)).Until(d => StatsStatus(d) is > 0);
        StatsStatus(browser).ShouldBe(200, "the statistics poll is admitted");
        browser.FindElement(By.CssSelector("a[href='/staff']")).Displayed.ShouldBeTrue("the way back to the staff home");
        var errors = new Dictionary<string, List<string>> { ["home"] = ConsoleErrors(browser) };

        // Recurring jobs: the reconciler, triggered from the page (a post with the page's antiforgery header).
        browser.Navigate().GoToUrl(Url("staff/jobs/recurring"));
        WaitFor(browser, By.CssSelector("table")).Text.ShouldContain("compliance.reconcile");
        browser.FindElement(By.CssSelector("input.js-jobs-list-checkbox[value='compliance.reconcile']")).Click();
        browser.FindElement(By.CssSelector("button.js-jobs-list-command[data-url$='/recurring/trigger']")).Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(15)).Until(d => d.FindElements(By.CssSelector("input.js-jobs-list-checkbox:checked")).Count == 0);
        errors["recurring"] = ConsoleErrors(browser);

        // The run it started, in the succeeded list and on its own page (state cards, history).
        browser.Navigate().GoToUrl(Url("staff/jobs/jobs/succeeded"));
        new WebDriverWait(browser, TimeSpan.FromSeconds(30)).Until(d =>
        {
            d.Navigate().Refresh();
            return d.FindElements(By.CssSelector("a.job-method")).Count > 0;
        });
        errors["succeeded"] = ConsoleErrors(browser);
        browser.FindElement(By.CssSelector("a.job-method")).Click();
        WaitFor(browser, By.CssSelector(".state-card"));
        errors["job details"] = ConsoleErrors(browser);

        browser.Navigate().GoToUrl(Url("staff/jobs/servers"));
        WaitFor(browser, By.CssSelector("table")).Text.ShouldContain(Environment.MachineName.ToLowerInvariant());
        errors["servers"] = ConsoleErrors(browser);

        errors.Where(page => page.Value.Count > 0).ShouldBeEmpty();

        // The console is read for real: a script the policy refuses is reported there.
        ((IJavaScriptExecutor)browser).ExecuteScript("var s = document.createElement('script'); s.textContent = 'window.canary = 1'; document.head.appendChild(s);");
        ConsoleErrors(browser).ShouldContain(e => e.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Anonymous_Patient_AndDpo_AreRefusedInChromium_AndSeeNothingOfTheDashboard()
    {
        using var browser = Chromium(_root, "en");

        // Anonymous: sent to the staff sign-in.
        browser.Navigate().GoToUrl(Url("staff/jobs"));
        WaitFor(browser, By.Id("name"));
        new Uri(browser.Url).AbsolutePath.ShouldBe("/staff/login");
        ShouldShowNothingOfTheDashboard(browser, "anonymous");

        // A patient, signed in on /account: refused outright.
        browser.Navigate().GoToUrl(Url("account/signup"));
        WaitFor(browser, By.Id("password_confirm"));
        browser.FindElement(By.Id("pseudonym")).SendKeys("patient-" + Guid.NewGuid().ToString("N")[..8]);
        browser.FindElement(By.Id("password")).SendKeys("lanterne pivoine escalier 47");
        browser.FindElement(By.Id("password_confirm")).SendKeys("lanterne pivoine escalier 47");
        browser.FindElement(By.Id("signup")).Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(15)).Until(d => new Uri(d.Url).AbsolutePath == "/account");
        browser.Navigate().GoToUrl(Url("staff/jobs"));
        WaitFor(browser, By.Id("staff-refused"));
        ShouldShowNothingOfTheDashboard(browser, "a patient");
        browser.Manage().Cookies.DeleteAllCookies();

        // A DPO with a second factor: a staff member, of the wrong role.
        var name = "dpo." + Guid.NewGuid().ToString("N")[..8];
        var initial = await AddStaffAsync(name, "dpo");
        browser.Navigate().GoToUrl(Url("staff/jobs"));
        FirstStaffSignIn(browser, name, initial);
        browser.FindElement(By.Id("staff-continue")).Click();
        WaitFor(browser, By.Id("staff-denied"));
        ShouldShowNothingOfTheDashboard(browser, "a DPO");
    }

    private static void ShouldShowNothingOfTheDashboard(ChromeDriver browser, string who)
    {
        browser.Title.ShouldNotContain("Compliance jobs", customMessage: who);
        browser.FindElements(By.CssSelector("#realtimeGraph, a.job-method, .js-jobs-list")).ShouldBeEmpty(who);
        browser.PageSource.ShouldNotContain("hangfire", Case.Insensitive, who);
        browser.PageSource.ShouldNotContain("compliance.reconcile", Case.Insensitive, who);
    }

    // A staff member's first sign-in: the initial password, a new one, and the authenticator app set up.
    private static void FirstStaffSignIn(ChromeDriver browser, string name, string initial)
    {
        WaitFor(browser, By.Id("name")).SendKeys(name);
        browser.FindElement(By.Id("password")).SendKeys(initial);
        browser.FindElement(By.Id("signin")).Click();
        var key = WaitFor(browser, By.Id("totp-key")).Text;
        browser.FindElement(By.Id("new_password")).SendKeys("lanterne pivoine escalier 47");
        browser.FindElement(By.Id("new_password_confirm")).SendKeys("lanterne pivoine escalier 47");
        browser.FindElement(By.Id("code")).SendKeys(AuthenticatorApp.CodeAt(key, AuthenticatorApp.CurrentStep()));
        browser.FindElement(By.Id("totp-confirm")).Click();
        WaitFor(browser, By.Id("staff-continue"));
    }

    /// <summary>The SEVERE entries of the console since the last read, with their source.</summary>
    private static List<string> ConsoleErrors(ChromeDriver browser) =>
        [.. browser.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == LogLevel.Severe).Select(e => e.Message)];

    /// <summary>The HTTP status of the page's latest request to <c>/stats</c>, 0 before any.</summary>
    private static long StatsStatus(IWebDriver browser) => (long)((IJavaScriptExecutor)browser).ExecuteScript(
        "const r = performance.getEntriesByType('resource').filter(e => e.name.endsWith('/staff/jobs/stats')); return r.length ? r[r.length - 1].responseStatus : 0;")!;

    private async Task<string> AddStaffAsync(string name, string role)
    {
        var (exitCode, output, error) = await CliProcess.RunAsync(_settings, "staff", "add", name, "--role", role);
        exitCode.ShouldBe(0, error);
        var password = InitialPassword().Match(output).Groups[1].Value;
        password.ShouldNotBeNullOrEmpty(output);
        return password;
    }

    private string Url(string path) => new Uri(_server.BaseAddress, path).ToString();

    [GeneratedRegex("initial password: (.+?)\\r?$", RegexOptions.Multiline)]
    private static partial Regex InitialPassword();
}
