using System.Text.RegularExpressions;
using Compliance.Data.Model;
using Compliance.Oidc.Sessions;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.Oidc.TotpPatients;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// "Account security" shows the recent sign-ins (time, browser family, methods, usual or new network) without keeping
/// any address, and signs out the other sessions, with their partners told.
/// </summary>
public abstract class SignInHistoryTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly TotpPatients _patients = new(stores);

    public void Dispose()
    {
        _patients.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task RecentSignIns_NameTheBrowserAndTellANewNetwork_AndTheOtherSessionsCanBeSignedOut()
    {
        var (clientId, _) = await _patients.RegisterAsync();
        var pseudonym = "history-" + Guid.NewGuid().ToString("N")[..8];
        using var enrolled = await _patients.EnrolAsync(pseudonym);

        using var home = await SignInAsync(clientId, pseudonym, enrolled.Key, "192.0.2.10", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0");
        using var sameNetwork = await SignInAsync(clientId, pseudonym, enrolled.Key, "192.0.2.77", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Safari/537.36");
        using var elsewhere = await SignInAsync(clientId, pseudonym, enrolled.Key, "2001:db8:1234::5", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1");

        var security = await (await elsewhere.GetAsync("/account/security")).Content.ReadAsStringAsync();
        var rows = Regex.Matches(Regex.Match(security, "<ul id=\"recent-sign-ins\">(.*?)</ul>", RegexOptions.Singleline).Groups[1].Value, "<li>(.*?)</li>").Select(m => System.Net.WebUtility.HtmlDecode(Regex.Replace(m.Groups[1].Value, "<[^>]+>", ""))).ToList();
        rows.Count.ShouldBe(3);
        rows[0].ShouldEndWith("Safari · pwd otp mfa · nouveau réseau");
        rows[1].ShouldEndWith("Chrome · pwd otp mfa · réseau habituel", customMessage: "the same /24");
        rows[2].ShouldEndWith("Firefox · pwd otp mfa · réseau habituel", customMessage: "the first sign-in sets what is usual");
        Text(security, "other-sessions").ShouldBe("Autres sessions ouvertes : 3.");

        await using (var scope = _patients.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var stored = await db.Database.SqlQueryRaw<string>("SELECT network_hash AS \"Value\" FROM account_sign_ins").ToListAsync();
            stored.ShouldAllBe(h => Regex.IsMatch(h, "^[0-9a-f]{64}$"), "a keyed hash, never an address");
        }

        var ended = await elsewhere.PostFormAsync("/account/security/sessions/end-others", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        });
        Text(await ended.Content.ReadAsStringAsync(), "others-ended").ShouldStartWith("Sessions fermées : 3.");
        (await home.GetAsync("/account")).Headers.Location!.OriginalString.ShouldStartWith("/account/login");
        (await enrolled.Patient.GetAsync("/account")).Headers.Location!.OriginalString.ShouldStartWith("/account/login");
        (await elsewhere.GetAsync("/account")).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, "this one goes on");
        await using (var scope = _patients.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            (await db.Set<BrowserSession>().CountAsync(s => s.EndReason == SessionEndReasons.SignedOut)).ShouldBeGreaterThanOrEqualTo(3);
        }
    }

    private async Task<PatientBrowser> SignInAsync(string clientId, string pseudonym, string key, string address, string userAgent)
    {
        var browser = _patients.NewBrowser();
        browser.ClientAddress = address;
        browser.UserAgent = userAgent;
        _patients.Clock.Advance(TimeSpan.FromSeconds(30));
        var (page, interaction) = await PasswordStepAsync(browser, clientId, pseudonym);
        (await SecondStepAsync(browser, page, interaction, CodeAt(key, _patients.Clock.GetUtcNow()))).StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        return browser;
    }
}

public sealed class SignInHistoryTests_Sqlite(SqliteStores stores) : SignInHistoryTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SignInHistoryTests_Postgres(PostgresStores stores) : SignInHistoryTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
