using System.Net;
using System.Text.RegularExpressions;
using Compliance.Data.Storage;
using Compliance.Testing;

namespace Compliance.Server.Tests.Startup;

/// <summary>Two real server processes on one PostgreSQL: the per-pseudonym lockout and the sessions are shared, not per node.</summary>
public sealed class SignInAcrossNodesTests : IAsyncLifetime
{
    private const int MaxFailedSignIns = 5;
    private const string Password = "correct horse battery staple 42";
    private readonly EmptyStores _empty = new();
    private ServerProcess _nodeA = null!;
    private ServerProcess _nodeB = null!;

    public async Task InitializeAsync()
    {
        var settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        settings["Storage:MigrateOnStart"] = "true";
        settings["Oidc:MaxFailedSignIns"] = MaxFailedSignIns.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Oidc:InteractiveRequestsPerMinute"] = "10000";
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
    public async Task WrongPasswords_SplitInParallelAcrossTwoNodes_AddUpToOneLockout()
    {
        var pseudonym = "nodes-" + Guid.NewGuid().ToString("N")[..8];
        using (var patient = Browser(_nodeA))
        {
            var signUp = await FormAsync(patient, "/account/signup");
            (await PostAsync(patient, "/account/signup", signUp, new() { ["pseudonym"] = pseudonym, ["password"] = Password, ["password_confirm"] = Password }))
                .ShouldBe(HttpStatusCode.Redirect);
        }

        using var onA = Browser(_nodeA);
        using var onB = Browser(_nodeB);
        var formA = await FormAsync(onA, "/account/login");
        var formB = await FormAsync(onB, "/account/login");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => i % 2 == 0
            ? PostAsync(onA, "/account/login", formA, new() { ["pseudonym"] = pseudonym, ["password"] = $"wrong password {i:00}" })
            : PostAsync(onB, "/account/login", formB, new() { ["pseudonym"] = pseudonym, ["password"] = $"wrong password {i:00}" })));
        var rightPasswordOnB = await PostAsync(onB, "/account/login", formB, new() { ["pseudonym"] = pseudonym, ["password"] = Password });

        rightPasswordOnB.ShouldBe(HttpStatusCode.TooManyRequests, "node B refuses once the attempts made on both nodes reach the limit");
        var checkedPasswords = Count(_nodeA.StandardOutput, "\"EventId\":2002,") + Count(_nodeB.StandardOutput, "\"EventId\":2002,");
        checkedPasswords.ShouldBeInRange(1, MaxFailedSignIns, "both nodes together check no more passwords than the lockout allows");
    }

    [Fact]
    public async Task SignOutOnNodeA_EndsTheSessionOnNodeB_AtOnce()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var patient = new Oidc.PatientBrowser(handler, _nodeA.BaseAddress);
        using var copied = new Oidc.PatientBrowser(handler, _nodeB.BaseAddress);
        (await patient.SignUpAsync("signout-" + Guid.NewGuid().ToString("N")[..8], Password, server: _nodeA.BaseAddress)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        patient.CopyCookiesTo(copied);
        (await copied.GetAsync("/account", _nodeB.BaseAddress)).StatusCode.ShouldBe(HttpStatusCode.OK, "a load balancer may send the patient to either node");

        var confirm = await (await patient.GetAsync("/connect/endsession", _nodeA.BaseAddress)).Content.ReadAsStringAsync();
        (await patient.PostFormAsync("/connect/endsession", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Oidc.PatientBrowser.Hidden(confirm, "__RequestVerificationToken"),
            ["confirm"] = "1",
        }, _nodeA.BaseAddress)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var onB = await copied.GetAsync("/account", _nodeB.BaseAddress);
        onB.StatusCode.ShouldBe(HttpStatusCode.Redirect, "the cookie copied before the sign-out is refused on the other node");
        onB.Headers.Location!.ToString().ShouldStartWith("/account/login");
    }

    private static int Count(string text, string needle) => Regex.Count(text, Regex.Escape(needle));

    private static HttpClient Browser(ServerProcess node) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = node.BaseAddress };

    private static async Task<string> FormAsync(HttpClient browser, string path)
    {
        var html = await browser.GetStringAsync(path);
        return WebUtility.HtmlDecode(Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]*)\"").Groups[1].Value);
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient browser, string path, string token, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = token;
        using var response = await browser.PostAsync(path, new FormUrlEncodedContent(fields));
        return response.StatusCode;
    }
}
