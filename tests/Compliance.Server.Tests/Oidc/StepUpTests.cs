using System.Net;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Testing;
using Microsoft.AspNetCore.WebUtilities;
using static Compliance.Server.Tests.Oidc.TotpPatients;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A patient signed in with a password only is asked for the second factor alone, not the whole sign-in, when a
/// partner (its minimum acr, the request's acr_values or max_age) or a page (the eidas2 policies) needs more; without
/// a second factor, they are led to set one up first. No authorization code and no protected page before that.
/// </summary>
public abstract class StepUpTests<TStores>(TStores stores) : IDisposable
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
    public async Task ClientRequiringEidas2_AsksAPasswordSessionForTheCodeOnly_AndIssuesACodeOnlyAfterIt()
    {
        var (clientId, secret) = await _patients.RegisterAsync(minimumAcr: "eidas2");
        var (pseudonym, key, patient) = await PasswordSessionWithAnAppAsync();
        using var _ = patient;

        // prompt=none cannot step up: the partner learns that interaction is needed, and gets no code.
        var silent = await patient.GetAsync(AuthorizePath(clientId, "&prompt=none"));
        var silentAnswer = QueryHelpers.ParseQuery(silent.Headers.Location!.Query);
        silentAnswer["error"].ToString().ShouldBe("interaction_required");
        silentAnswer.ContainsKey("code").ShouldBeFalse();

        var toStepUp = await patient.GetAsync(AuthorizePath(clientId));
        toStepUp.Headers.Location!.OriginalString.ShouldStartWith("/account/step-up?interaction=", customMessage: "the second factor only, not the sign-in page");
        var page = await (await patient.GetAsync(toStepUp.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        Text(page, "step-up-intro").ShouldStartWith("Pour continuer, saisissez le code");
        page.ShouldNotContain("id=\"password\"");

        var wrong = await StepUpAsync(patient, page, CodeAt(key, _patients.Clock.GetUtcNow(), stepOffset: 4));
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var retry = await wrong.Content.ReadAsStringAsync();
        Alert(retry).ShouldStartWith("Ce code n'est pas le bon.");

        var resumed = await StepUpAsync(patient, retry, CodeAt(key, _patients.Clock.GetUtcNow()));
        var consent = await (await patient.FollowAsync(resumed)).Content.ReadAsStringAsync();
        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        });
        var idToken = await _patients.ExchangeAsync(clientId, secret, decided.Headers.Location!);
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "otp", "mfa"]);
        idToken.GetProperty("auth_time").GetInt64().ShouldBe(_patients.Clock.GetUtcNow().ToUnixTimeSeconds(), "the step-up is a fresh authentication");

        // The same session goes on at eidas2: the next request needs nothing more, and the page is not asked again.
        (await patient.GetAsync(AuthorizePath(clientId))).Headers.Location!.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=");
        pseudonym.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task ClientRequiringEidas2_LeadsAPatientWithoutASecondFactorToSetOneUp_ThenBackToThePartner()
    {
        var (clientId, secret) = await _patients.RegisterAsync(minimumAcr: "eidas2");
        using var patient = _patients.NewBrowser();
        await patient.SignUpAsync("nofactor-" + Guid.NewGuid().ToString("N")[..8], Password);

        var toStepUp = await patient.GetAsync(AuthorizePath(clientId));
        var toSetup = await patient.GetAsync(toStepUp.Headers.Location!.OriginalString);
        toSetup.Headers.Location!.OriginalString.ShouldStartWith("/account/security/setup?interaction=");
        var setup = await (await patient.GetAsync(toSetup.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        Text(setup, "setup-required").ShouldStartWith("Le service qui vous a envoyé ici demande un second facteur");

        var begun = await (await patient.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(setup, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(setup, "interaction"),
            ["return"] = "",
        })).Content.ReadAsStringAsync();
        begun.ShouldContain("<svg", customMessage: "the key as a QR code");
        var key = Text(begun, "totp-key");
        var confirmed = await (await patient.PostFormAsync("/account/security/totp/confirm", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(begun, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(begun, "interaction"),
            ["return"] = "",
            ["code"] = CodeAt(key, _patients.Clock.GetUtcNow()),
        })).Content.ReadAsStringAsync();
        RecoveryCodesOn(confirmed).Count.ShouldBe(10, "the recovery codes are shown before going back");
        var next = System.Net.WebUtility.HtmlDecode(Attribute(confirmed, "#continue", "href"));
        next.ShouldStartWith("/connect/authorize/resume?interaction=");

        var consent = await (await patient.FollowAsync(await patient.GetAsync(next))).Content.ReadAsStringAsync();
        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        });
        (await _patients.ExchangeAsync(clientId, secret, decided.Headers.Location!)).GetProperty("acr").GetString().ShouldBe("eidas2");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.SecondFactorEnabled.Id)).ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("eidas2", "step-up")]
    [InlineData("eidas1%20eidas2", "code")]
    [InlineData("urn%3Aexample%3Aunknown", "code")]
    [InlineData("eidas3", "unmet_authentication_requirements")]
    public async Task AcrValues_OfTheRequest_AreMetByAStepUp_OrRefusedWhenBeyondReach(string acrValues, string expected)
    {
        var (clientId, _) = await _patients.RegisterAsync();
        var (_, _, patient) = await PasswordSessionWithAnAppAsync();
        using var _ = patient;
        await ConsentAsync(patient, clientId);

        var answer = (await patient.GetAsync(AuthorizePath(clientId, "&acr_values=" + acrValues))).Headers.Location!;
        switch (expected)
        {
            case "step-up":
                answer.OriginalString.ShouldStartWith("/account/step-up?interaction=");
                break;
            case "code":
                answer.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=");
                break;
            default:
                QueryHelpers.ParseQuery(answer.Query)["error"].ToString().ShouldBe(expected);
                break;
        }
    }

    [Fact]
    public async Task ExceededMaxAge_AsksAPatientWithAnAppForTheCodeOnly_AndAPatientWithoutForTheSignIn()
    {
        var (clientId, secret) = await _patients.RegisterAsync();
        using var enrolled = await _patients.EnrolAsync("maxage-" + Guid.NewGuid().ToString("N")[..8]);
        await ConsentAsync(enrolled.Patient, clientId);
        _patients.Clock.Advance(TimeSpan.FromMinutes(10));

        var toStepUp = await enrolled.Patient.GetAsync(AuthorizePath(clientId, "&max_age=60"));
        toStepUp.Headers.Location!.OriginalString.ShouldStartWith("/account/step-up?interaction=");
        var page = await (await enrolled.Patient.GetAsync(toStepUp.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        var callback = (await enrolled.Patient.FollowAsync(await StepUpAsync(enrolled.Patient, page, CodeAt(enrolled.Key, _patients.Clock.GetUtcNow())))).Headers.Location!;
        (await _patients.ExchangeAsync(clientId, secret, callback)).GetProperty("auth_time").GetInt64().ShouldBe(_patients.Clock.GetUtcNow().ToUnixTimeSeconds());

        using var passwordOnly = _patients.NewBrowser();
        await passwordOnly.SignUpAsync("maxage-pwd-" + Guid.NewGuid().ToString("N")[..8], Password);
        _patients.Clock.Advance(TimeSpan.FromMinutes(10));
        (await passwordOnly.GetAsync(AuthorizePath(clientId, "&max_age=60"))).Headers.Location!.OriginalString.ShouldStartWith("/account/login?interaction=");
    }

    [Fact]
    public async Task SecurityPage_RefusesAPasswordSession_SendsItToTheStepUp_AndOpensAfterIt()
    {
        var (_, key, patient) = await PasswordSessionWithAnAppAsync();
        using var _ = patient;

        var refused = await patient.GetAsync("/account/security");
        refused.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        refused.Headers.Location!.OriginalString.ShouldBe("/account/step-up?return=%2Faccount%2Fsecurity");

        // An API caller (not a browser page) gets the machine answer, with the stable code.
        using var api = new HttpRequestMessage(HttpMethod.Get, "/account/security");
        api.Headers.Accept.ParseAdd("application/json");
        api.Headers.Add("Cookie", string.Join("; ", patient.Cookies.Select(c => $"{c.Key}={c.Value}")));
        using var http = _patients.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var problem = await http.SendAsync(api);
        problem.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        problem.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonDocument.Parse(await problem.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString().ShouldBe("step_up_required");

        var page = await (await patient.GetAsync(refused.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        var back = await StepUpAsync(patient, page, CodeAt(key, _patients.Clock.GetUtcNow()));
        back.Headers.Location!.OriginalString.ShouldBe("/account/security");
        Text(await (await patient.GetAsync("/account/security")).Content.ReadAsStringAsync(), "totp-status").ShouldStartWith("Une application d'authentification est configurée");
    }

    [Fact]
    public async Task SecurityPage_WithoutASession_LeadsToSignIn_AndBackAfterIt()
    {
        using var stranger = _patients.NewBrowser();
        var refused = await stranger.GetAsync("/account/security");
        refused.Headers.Location!.OriginalString.ShouldBe("/account/login?return=%2Faccount%2Fsecurity");

        var pseudonym = "back-" + Guid.NewGuid().ToString("N")[..8];
        using (var other = _patients.NewBrowser())
        {
            await other.SignUpAsync(pseudonym, Password);
        }

        var signIn = await (await stranger.GetAsync(refused.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        var signedIn = await stranger.PostFormAsync("/account/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
            ["return"] = PatientBrowser.Hidden(signIn, "return"),
            ["pseudonym"] = pseudonym,
            ["password"] = Password,
        });
        signedIn.Headers.Location!.OriginalString.ShouldBe("/account/security");
    }

    [Theory]
    [InlineData("//evil.example/steal")]
    [InlineData("https://evil.example/")]
    [InlineData("/account/../connect/authorize")]
    [InlineData("/account\\@evil.example")]
    [InlineData("javascript:alert(1)")]
    public async Task StepUp_NeverReturnsOffThePatientPages(string hostile)
    {
        var (_, key, patient) = await PasswordSessionWithAnAppAsync();
        using var _ = patient;
        var page = await (await patient.GetAsync("/account/step-up?return=" + Uri.EscapeDataString(hostile))).Content.ReadAsStringAsync();
        PatientBrowser.Hidden(page, "return").ShouldBeEmpty();

        var answer = await patient.PostFormAsync("/account/step-up", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["return"] = hostile,
            ["code"] = CodeAt(key, _patients.Clock.GetUtcNow()),
        });
        answer.Headers.Location!.OriginalString.ShouldBe("/account/security");
    }

    [Fact]
    public async Task StepUp_RefusesAReplayedCode_AFormWithoutSession_AndCountsInTheLockout()
    {
        var (_, key, patient) = await PasswordSessionWithAnAppAsync();
        using var _ = patient;
        var page = await (await patient.GetAsync("/account/step-up")).Content.ReadAsStringAsync();
        var code = CodeAt(key, _patients.Clock.GetUtcNow());
        (await StepUpAsync(patient, page, code)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var replayed = await StepUpAsync(patient, page, code);
        replayed.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Alert(await replayed.Content.ReadAsStringAsync()).ShouldBe("Ce code a déjà servi. Attendez que votre application en affiche un nouveau.");

        using var stranger = _patients.NewBrowser();
        (await StepUpAsync(stranger, page, code)).StatusCode.ShouldBe(HttpStatusCode.BadRequest, "no session, and another browser's form");

        // Wrong codes lock the pseudonym like wrong passwords: the sixth attempt is refused unchecked.
        var (_, otherKey, locked) = await PasswordSessionWithAnAppAsync();
        using var __ = locked;
        var form = await (await locked.GetAsync("/account/step-up")).Content.ReadAsStringAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            (await StepUpAsync(locked, form, CodeAt(otherKey, _patients.Clock.GetUtcNow(), stepOffset: 5))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var refused = await StepUpAsync(locked, form, CodeAt(otherKey, _patients.Clock.GetUtcNow()));
        refused.StatusCode.ShouldBe((HttpStatusCode)429);
        refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task FreshPolicy_AsksAgainAfterFiveMinutes_BeforeReplacingRecoveryCodes_AndTheOldOnesStopWorking()
    {
        var (clientId, _) = await _patients.RegisterAsync();
        using var enrolled = await _patients.EnrolAsync("fresh-" + Guid.NewGuid().ToString("N")[..8]);
        var security = await (await enrolled.Patient.GetAsync("/account/security")).Content.ReadAsStringAsync();
        _patients.Clock.Advance(TimeSpan.FromMinutes(6));

        var stale = await enrolled.Patient.PostFormAsync("/account/security/recovery-codes", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        });
        stale.Headers.Location!.OriginalString.ShouldBe("/account/step-up?return=%2Faccount%2Fsecurity");
        var page = await (await enrolled.Patient.GetAsync(stale.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        (await StepUpAsync(enrolled.Patient, page, CodeAt(enrolled.Key, _patients.Clock.GetUtcNow()))).Headers.Location!.OriginalString.ShouldBe("/account/security");

        security = await (await enrolled.Patient.GetAsync("/account/security")).Content.ReadAsStringAsync();
        var replaced = await (await enrolled.Patient.PostFormAsync("/account/security/recovery-codes", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        })).Content.ReadAsStringAsync();
        var fresh = RecoveryCodesOn(replaced);
        fresh.Count.ShouldBe(10);
        fresh.ShouldNotContain(enrolled.RecoveryCodes[0]);
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.RecoveryCodesRegenerated.Id)).ShouldNotBeEmpty();

        var pseudonym = PageElementsPseudonym(security);
        using var other = _patients.NewBrowser();
        var (step, interaction) = await PasswordStepAsync(other, clientId, pseudonym);
        (await SecondStepAsync(other, step, interaction, "", enrolled.RecoveryCodes[0])).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "the old codes no longer work");
        (await SecondStepAsync(other, step, interaction, "", fresh[0])).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task RemovingTheApp_NeedsAFreshStepUp_IsRecorded_AndLeavesThePasswordAlone()
    {
        var pseudonym = "remove-" + Guid.NewGuid().ToString("N")[..8];
        using var enrolled = await _patients.EnrolAsync(pseudonym);
        var security = await (await enrolled.Patient.GetAsync("/account/security")).Content.ReadAsStringAsync();
        var removed = await enrolled.Patient.PostFormAsync("/account/security/totp/remove", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        });
        removed.Headers.Location!.OriginalString.ShouldBe("/account/security/setup");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.SecondFactorRemoved.Id)).ShouldNotBeEmpty();

        using var later = _patients.NewBrowser();
        (await later.SignInAsync(pseudonym, Password)).Headers.Location!.OriginalString.ShouldBe("/account", "a password alone again, at eidas1");
    }

    /// <summary>
    /// A patient with an authenticator app whose browser holds a password-only session: signed up there (eidas1), then
    /// set up the app in another browser.
    /// </summary>
    private async Task<(string Pseudonym, string Key, PatientBrowser Patient)> PasswordSessionWithAnAppAsync()
    {
        var pseudonym = "stepup-" + Guid.NewGuid().ToString("N")[..8];
        var patient = _patients.NewBrowser();
        await patient.SignUpAsync(pseudonym, Password);
        using var elsewhere = _patients.NewBrowser();
        (await elsewhere.SignInAsync(pseudonym, Password)).Headers.Location!.OriginalString.ShouldBe("/account");
        var setup = await (await elsewhere.FollowAsync(await elsewhere.GetAsync("/account/security"))).Content.ReadAsStringAsync();
        var begun = await (await elsewhere.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(setup, "__RequestVerificationToken"),
        })).Content.ReadAsStringAsync();
        var key = Text(begun, "totp-key");
        await elsewhere.PostFormAsync("/account/security/totp/confirm", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(begun, "__RequestVerificationToken"),
            ["code"] = CodeAt(key, _patients.Clock.GetUtcNow()),
        });
        _patients.Clock.Advance(TimeSpan.FromSeconds(30));
        return (pseudonym, key, patient);
    }

    /// <summary>Gives the partner consent in this session, so that later requests go straight to a code.</summary>
    private static async Task ConsentAsync(PatientBrowser patient, string clientId)
    {
        var consent = await (await patient.FollowAsync(await patient.GetAsync(AuthorizePath(clientId)))).Content.ReadAsStringAsync();
        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        });
        decided.Headers.Location!.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=");
    }

    private static string PageElementsPseudonym(string page) => Text(page, "signed-in-pseudonym");
}

public sealed class StepUpTests_Sqlite(SqliteStores stores) : StepUpTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class StepUpTests_Postgres(PostgresStores stores) : StepUpTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
