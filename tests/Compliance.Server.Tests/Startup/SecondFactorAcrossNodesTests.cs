using System.Net;
using System.Text.RegularExpressions;
using Compliance.Data.Storage;
using Compliance.Server.Tests.Browser;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// Two real server processes on one PostgreSQL, as two nodes behind a load balancer, on real time: an authenticator
/// code or a recovery code sent to both nodes at once is accepted by exactly one of them.
/// </summary>
public sealed partial class SecondFactorAcrossNodesTests : IAsyncLifetime
{
    private const string Password = "correct horse battery staple 42";
    private const int RacersPerNode = 3;
    private readonly EmptyStores _empty = new();
    private ServerProcess _nodeA = null!;
    private ServerProcess _nodeB = null!;

    public async Task InitializeAsync()
    {
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        settings["Storage:MigrateOnStart"] = "true";
        settings["Oidc:InteractiveRequestsPerMinute"] = "10000";

        // Every racer's password step and code step take a slot of the per-pseudonym throttle until one succeeds.
        settings["Oidc:MaxFailedSignIns"] = "20";
        _nodeA = ServerProcess.Start(settings);
        await _nodeA.WaitUntilReadyAsync();
        _nodeB = ServerProcess.Start(settings);
        await _nodeB.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
        await _empty.DisposeAsync();
    }

    [Fact]
    public async Task SameAppCode_SentToBothNodesAtOnce_IsAcceptedOnce_TheOthersAreToldItWasUsed()
    {
        var pseudonym = "race-" + Guid.NewGuid().ToString("N")[..8];
        var (key, enrolledStep, _) = await EnrolOnNodeAAsync(pseudonym);
        var racers = await PasswordStepsAsync(pseudonym);
        var code = AuthenticatorApp.CodeAt(key, AuthenticatorApp.NextUsableStep(enrolledStep));

        var answers = await Task.WhenAll(racers.Select(r => SecondStepAsync(r, new() { ["code"] = code })));

        answers.Count(a => a.Status == HttpStatusCode.Redirect).ShouldBe(1, string.Join(", ", answers.Select(a => a.Status)));
        answers.Where(a => a.Status != HttpStatusCode.Redirect).ShouldAllBe(a => a.Status == HttpStatusCode.Unauthorized
            && a.Alert == "Ce code a déjà servi. Attendez que votre application en affiche un nouveau.");
        (await SignedInCountAsync(racers)).ShouldBe(1);
    }

    [Fact]
    public async Task SameRecoveryCode_SentToBothNodesAtOnce_IsAcceptedOnce()
    {
        var pseudonym = "race-rescue-" + Guid.NewGuid().ToString("N")[..8];
        var (_, _, recoveryCodes) = await EnrolOnNodeAAsync(pseudonym);
        var racers = await PasswordStepsAsync(pseudonym);

        var answers = await Task.WhenAll(racers.Select(r => SecondStepAsync(r, new() { ["recovery_code"] = recoveryCodes[2] })));

        answers.Count(a => a.Status == HttpStatusCode.Redirect).ShouldBe(1, string.Join(", ", answers.Select(a => a.Status)));
        answers.Count(a => a.Status == HttpStatusCode.Unauthorized).ShouldBe(answers.Length - 1);
        (await SignedInCountAsync(racers)).ShouldBe(1);
    }

    /// <summary>Signs up on node A and sets up the app from Account security (wherever it leads) with the current code.</summary>
    private async Task<(string Key, long Step, IReadOnlyList<string> RecoveryCodes)> EnrolOnNodeAAsync(string pseudonym)
    {
        using var patient = Browser(_nodeA);
        (await patient.SignUpAsync(pseudonym, Password)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var security = await PageAsync(patient, await patient.FollowAsync(await patient.GetAsync("/account/security")));
        var begun = await PageAsync(patient, await SubmitAsync(patient, security, "totp-begin", []));
        var key = PageElements.Text(begun, "totp-key");

        var step = AuthenticatorApp.CurrentStep();
        var confirmed = await PageAsync(patient, await SubmitAsync(patient, begun, "totp-confirm", new() { ["code"] = AuthenticatorApp.CodeAt(key, step) }));
        PageElements.Tag(confirmed, "totp-enabled");
        var codes = RecoveryCode().Matches(confirmed).Select(m => m.Groups[1].Value).ToList();
        codes.Count.ShouldBe(10);
        return (key, step, codes);
    }

    /// <summary>New browsers, half on each node, each past the right password and on the second step.</summary>
    private async Task<IReadOnlyList<Racer>> PasswordStepsAsync(string pseudonym)
    {
        var racers = new List<Racer>();
        foreach (var node in Enumerable.Range(0, RacersPerNode).SelectMany(_ => new[] { _nodeA, _nodeB }))
        {
            var browser = Browser(node);
            var signIn = await PageAsync(browser, await browser.GetAsync("/account/login"));
            var secondStep = await browser.PostFormAsync("/account/login", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
                ["interaction"] = "",
                ["pseudonym"] = pseudonym,
                ["password"] = Password,
            });
            var page = await PageAsync(browser, secondStep);
            PageElements.Tag(page, "second-factor-intro");
            racers.Add(new Racer(browser, page));
        }

        return racers;
    }

    private static async Task<(HttpStatusCode Status, string Alert)> SecondStepAsync(Racer racer, Dictionary<string, string> fields)
    {
        using var response = await SubmitAsync(racer.Browser, racer.Page, "verify", fields);
        var html = await response.Content.ReadAsStringAsync();
        var alert = Regex.Match(html, "<p class=\"alert\" role=\"alert\">([^<]*)</p>");
        return (response.StatusCode, alert.Success ? WebUtility.HtmlDecode(alert.Groups[1].Value) : "");
    }

    private static async Task<int> SignedInCountAsync(IReadOnlyList<Racer> racers)
    {
        var signedIn = 0;
        foreach (var racer in racers)
        {
            using var account = await racer.Browser.GetAsync("/account");
            signedIn += account.StatusCode == HttpStatusCode.OK ? 1 : 0;
            racer.Browser.Dispose();
        }

        return signedIn;
    }

    /// <summary>Posts the page's form that holds the element with this id, with its hidden fields and <paramref name="fields"/>.</summary>
    private static Task<HttpResponseMessage> SubmitAsync(PatientBrowser browser, string page, string id, Dictionary<string, string> fields)
    {
        var form = Form().Matches(page).FirstOrDefault(f => f.Groups["body"].Value.Contains($"id=\"{id}\"", StringComparison.Ordinal));
        form.ShouldNotBeNull($"no form holds #{id}");
        var values = Hidden().Matches(form.Groups["body"].Value).ToDictionary(h => WebUtility.HtmlDecode(h.Groups[1].Value), h => WebUtility.HtmlDecode(h.Groups[2].Value));
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return browser.PostFormAsync(WebUtility.HtmlDecode(form.Groups["action"].Value), values);
    }

    private static async Task<string> PageAsync(PatientBrowser browser, HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, html);
        return html;
    }

    private static PatientBrowser Browser(ServerProcess node) =>
        new(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = node.BaseAddress });

    [GeneratedRegex("<form method=\"post\" action=\"(?<action>[^\"]+)\">(?<body>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex Form();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex Hidden();

    [GeneratedRegex("<li><code>([2-9A-Z]{5}-[2-9A-Z]{5})</code></li>")]
    private static partial Regex RecoveryCode();

    private sealed record Racer(PatientBrowser Browser, string Page);
}
