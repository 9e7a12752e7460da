using System.Net;
using System.Text.Json;
using Compliance.Testing;
using static Compliance.Server.Tests.Oidc.TotpPatients;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A patient sets up an authenticator app on "Account security"; from then on a sign-in asks for its code after the
/// password, the password alone opens no session, a code works once, and the partner's ID token says eidas2. Codes
/// are computed here as an authenticator app would, from the key the page showed (RFC 6238, written independently of
/// the server's code).
/// </summary>
public abstract class SecondFactorTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly TotpPatients _patients = new(stores);
    private readonly TStores _stores = stores;

    public void Dispose()
    {
        _patients.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Enrolled_SignInAsksForTheCode_OnceOnly_AndTheIdTokenSaysEidas2()
    {
        var (clientId, secret) = await RegisterAsync();
        var pseudonym = "totp-" + Guid.NewGuid().ToString("N")[..8];
        var key = await EnrolAsync(pseudonym);

        // A new browser: the password is right, but what comes back is the second step, and no session yet.
        using var patient = NewBrowser();
        _patients.Clock.Advance(TimeSpan.FromSeconds(30));
        var (page, interaction) = await PasswordStepAsync(patient, clientId, pseudonym);
        Text(page, "second-factor-intro").ShouldStartWith("Votre mot de passe est correct.");
        (await patient.GetAsync("/account")).Headers.Location!.ToString().ShouldStartWith("/account/login", customMessage: "the password alone opens no session");

        var wrong = await SecondStepAsync(patient, page, interaction, CodeAt(key, _patients.Clock.GetUtcNow(), stepOffset: 3));
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var code = CodeAt(key, _patients.Clock.GetUtcNow());
        var consent = await patient.FollowAsync(await SecondStepAsync(patient, await wrong.Content.ReadAsStringAsync(), interaction, code));
        var consentPage = await consent.Content.ReadAsStringAsync();
        consentPage.ShouldContain("id=\"allow\"");

        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consentPage, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consentPage, "interaction"),
            ["decision"] = "allow",
        });
        var idToken = await _patients.ExchangeAsync(clientId, secret, decided.Headers.Location!);
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);

        // The same code again, from another browser that got the password right: refused, on the same step.
        using var thief = NewBrowser();
        var (again, againInteraction) = await PasswordStepAsync(thief, clientId, pseudonym);
        var replayed = await SecondStepAsync(thief, again, againInteraction, code);
        replayed.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(await replayed.Content.ReadAsStringAsync(), "<p class=\"alert\" role=\"alert\">([^<]*)</p>").Groups[1].Value)
            .ShouldBe("Ce code a déjà servi. Attendez que votre application en affiche un nouveau.");
    }

    [Fact]
    public async Task RecoveryCode_StandsInOnce_IsRecordedWithoutTheCode_AndShownOnTheSecurityPage()
    {
        var (clientId, _) = await RegisterAsync();
        var pseudonym = "rescue-" + Guid.NewGuid().ToString("N")[..8];
        using var enrolled = await _patients.EnrolAsync(pseudonym);
        var (codes, owner) = (enrolled.RecoveryCodes, enrolled.Patient);
        using var patient = NewBrowser();
        var (page, interaction) = await PasswordStepAsync(patient, clientId, pseudonym);

        var used = await patient.FollowAsync(await RecoveryStepAsync(patient, page, interaction, codes[4].ToLowerInvariant()));
        (await used.Content.ReadAsStringAsync()).ShouldContain("id=\"allow\"");

        using var again = NewBrowser();
        var (secondPage, secondInteraction) = await PasswordStepAsync(again, clientId, pseudonym);
        (await RecoveryStepAsync(again, secondPage, secondInteraction, codes[4])).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "a recovery code works once");

        var row = (await AuditRows.ReadAsync(_stores.Compliance, Compliance.Audit.Trail.AuditEventTypes.RecoveryCodeUsed.Id)).ShouldHaveSingleItem();
        row.Actor.ShouldBe("patient");
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
        JsonDocument.Parse(row.Details!).RootElement.GetProperty("remaining").GetInt32().ShouldBe(9);
        row.AllText.ShouldNotContain(codes[4]);
        row.AllText.ShouldNotContain(codes[4].Replace("-", "", StringComparison.Ordinal));

        var security = await (await owner.GetAsync("/account/security")).Content.ReadAsStringAsync();
        Text(security, "recovery-left").ShouldBe("Codes de secours restants : 9.");
        Text(security, "recovery-last-used").ShouldStartWith("Dernier code de secours utilisé le ");
    }

    [Fact]
    public async Task SecondStep_WithAForgedOrMissingPendingToken_IsThePasswordStepAgain_AndNoSession()
    {
        var (clientId, _) = await RegisterAsync();
        var pseudonym = "forged-" + Guid.NewGuid().ToString("N")[..8];
        var key = await EnrolAsync(pseudonym);
        using var patient = NewBrowser();
        _patients.Clock.Advance(TimeSpan.FromSeconds(30));
        var (page, interaction) = await PasswordStepAsync(patient, clientId, pseudonym);
        var pending = PatientBrowser.Hidden(page, "pending");

        foreach (var forged in new[] { "", pending[..^4] + "AAAA", new string('A', 5000) })
        {
            var response = await patient.PostFormAsync("/account/login/second-factor", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
                ["interaction"] = interaction,
                ["pending"] = forged,
                ["code"] = CodeAt(key, _patients.Clock.GetUtcNow()),
            });
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await response.Content.ReadAsStringAsync()).ShouldContain("id=\"password\"");
        }

        (await patient.GetAsync("/account")).Headers.Location!.ToString().ShouldStartWith("/account/login");
    }

    [Fact]
    public async Task SecurityPage_SignedOut_LeadsToSignIn_AndAWrongFirstCodeShowsTheSameKeyAgain()
    {
        using var stranger = NewBrowser();
        (await stranger.GetAsync("/account/security")).Headers.Location!.ToString().ShouldStartWith("/account/login");

        using var patient = NewBrowser();
        await patient.SignUpAsync("again-" + Guid.NewGuid().ToString("N")[..8], Password);
        var security = await (await patient.FollowAsync(await patient.GetAsync("/account/security"))).Content.ReadAsStringAsync();
        var begun = await (await patient.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        })).Content.ReadAsStringAsync();
        var key = Text(begun, "totp-key");

        var wrong = await patient.PostFormAsync("/account/security/totp/confirm", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(begun, "__RequestVerificationToken"),
            ["code"] = "12345",
        });

        wrong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Text(await wrong.Content.ReadAsStringAsync(), "totp-key").ShouldBe(key);
    }

    private async Task<string> EnrolAsync(string pseudonym)
    {
        using var enrolled = await _patients.EnrolAsync(pseudonym);
        return enrolled.Key;
    }

    private PatientBrowser NewBrowser() => _patients.NewBrowser();

    private Task<(string ClientId, string Secret)> RegisterAsync() => _patients.RegisterAsync();

    private static Task<HttpResponseMessage> RecoveryStepAsync(PatientBrowser patient, string page, string interaction, string recoveryCode) =>
        SecondStepAsync(patient, page, interaction, code: "", recoveryCode);
}

public sealed class SecondFactorTests_Sqlite(SqliteStores stores) : SecondFactorTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SecondFactorTests_Postgres(PostgresStores stores) : SecondFactorTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
