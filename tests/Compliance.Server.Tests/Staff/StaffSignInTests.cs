using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Audit.Trail;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Staff;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Compliance.Server.Tests.PageElements;
using static Compliance.Server.Tests.Staff.StaffSignInSteps;

namespace Compliance.Server.Tests.Staff;

/// <summary>
/// Staff accounts in the real host, on both stores: the first sign-in sets up an authenticator app before any
/// session, later ones ask for its code, staff sessions are short and server-side, and neither kind of session
/// reaches the other's pages. Codes are computed here from the key the page showed (RFC 6238, written independently).
/// </summary>
public abstract partial class StaffSignInTests<TStores> : IDisposable
    where TStores : StoreFixture
{
    private readonly Clock _clock = new(DateTimeOffset.UtcNow);
    private readonly ComplianceFactory _root;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly TStores _stores;

    protected StaffSignInTests(TStores stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _stores = stores;

        // Each test posts more forms than the per-address limit allows a minute; that limit has tests of its own.
        _root = new ComplianceFactory(new Dictionary<string, string?>(stores.Settings) { ["Oidc:InteractiveRequestsPerMinute"] = "1000" });
        _factory = _root.WithWebHostBuilder(host => host.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_clock))));
    }

    public void Dispose()
    {
        _factory.Dispose();
        _root.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task FirstSignIn_LeadsToEnrolment_AndNoSessionExistsBeforeTheFirstCode()
    {
        var (name, initial) = await AddAsync(StaffRoles.Admin);
        using var staff = NewBrowser();

        var enrolPage = await PasswordStepAsync(staff, name, initial);
        enrolPage.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await enrolPage.Content.ReadAsStringAsync();
        Text(page, "staff-enrol-intro").ShouldStartWith("Un compte de l'équipe ne peut pas se connecter sans second facteur.");
        var key = Text(page, "totp-key");
        Attribute(page, "#totp-uri", "href").ShouldStartWith($"otpauth://totp/Compliance:{name}?secret={key}");
        await ShouldHaveNoSessionAsync(staff, "the password alone opens no staff session");
        var actor = await ActorOfAsync(name);
        var refused = (await RowsAsync(AuditEventTypes.StaffSignInRefused, actor)).ShouldHaveSingleItem();
        JsonDocument.Parse(refused.Details!).RootElement.GetProperty("reason").GetString().ShouldBe("no_second_factor");

        // A wrong first code: the same key again, and still no session.
        var wrong = await EnrolStepAsync(staff, page, CodeAt(key, _clock.GetUtcNow(), stepOffset: 5));
        wrong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var again = await wrong.Content.ReadAsStringAsync();
        Text(again, "totp-key").ShouldBe(key);
        await ShouldHaveNoSessionAsync(staff, "a wrong first code opens no staff session");

        var enrolled = await EnrolStepAsync(staff, again, CodeAt(key, _clock.GetUtcNow()));
        enrolled.StatusCode.ShouldBe(HttpStatusCode.OK);
        var done = await enrolled.Content.ReadAsStringAsync();
        Text(done, "staff-enrolled").ShouldStartWith("C'est fait");
        RecoveryCodes(done).Count.ShouldBe(10);
        Attribute(done, "#staff-continue", "href").ShouldBe("/staff");
        var home = await staff.GetAsync("/staff");
        home.StatusCode.ShouldBe(HttpStatusCode.OK);
        var homePage = await home.Content.ReadAsStringAsync();
        Text(homePage, "staff-name").ShouldBe($"Identifiant : {name}");
        Text(homePage, "staff-role").ShouldBe("Rôle : administrateur");
        Text(homePage, "staff-session").ShouldBe("Cette session se ferme après 15 minutes sans activité, et au plus tard 8 heures après la connexion.");

        // The initial password worked once: it was replaced.
        using var later = NewBrowser();
        (await PasswordStepAsync(later, name, initial)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var signedIn = (await RowsAsync(AuditEventTypes.StaffSignedIn, actor)).ShouldHaveSingleItem();
        JsonDocument.Parse(signedIn.Details!).RootElement.GetProperty("method").GetString().ShouldBe("enrolment");
        JsonDocument.Parse(signedIn.Details!).RootElement.GetProperty("role").GetString().ShouldBe("admin");
        var enrolment = (await RowsAsync(AuditEventTypes.StaffSecondFactorEnrolled, actor)).ShouldHaveSingleItem();
        JsonDocument.Parse(enrolment.Details!).RootElement.GetProperty("password_replaced").GetBoolean().ShouldBeTrue();
        enrolment.ShouldHoldOnlyIdsAndEnumeratedValues();
        foreach (var row in new[] { refused, signedIn, enrolment })
        {
            row.AllText.ShouldNotContain(name);
            row.AllText.ShouldNotContain(key);
            row.AllText.ShouldNotContain(initial);
        }
    }

    [Fact]
    public async Task Enrolment_RefusesAWeakNewPassword_BeforeUsingTheCode()
    {
        var (name, initial) = await AddAsync(StaffRoles.Dpo);
        using var staff = NewBrowser();
        var page = await (await PasswordStepAsync(staff, name, initial)).Content.ReadAsStringAsync();
        var key = Text(page, "totp-key");
        var code = CodeAt(key, _clock.GetUtcNow());

        var weak = await EnrolStepAsync(staff, page, code, newPassword: "motdepasse123");
        weak.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var weakPage = await weak.Content.ReadAsStringAsync();
        Text(weakPage, "totp-key").ShouldBe(key);
        Alert(weakPage).ShouldStartWith("Le nouveau mot de passe ne convient pas");
        (await EnrolStepAsync(staff, weakPage, code, newPassword: initial)).StatusCode.ShouldBe(HttpStatusCode.BadRequest, "the initial password cannot be kept");

        // The code was not used up by the refusals.
        (await EnrolStepAsync(staff, weakPage, code)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task SignIn_AsksForTheCode_WhichWorksOnce_AndReturnsToThePageAsked()
    {
        var (name, key, _) = await EnrolledAsync(StaffRoles.Admin);
        using var staff = NewBrowser();
        var toSignIn = await staff.GetAsync("/staff/accounts");
        toSignIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        toSignIn.Headers.Location!.OriginalString.ShouldBe("/staff/login?return=%2Fstaff%2Faccounts");
        var signInPage = await (await staff.GetAsync(toSignIn.Headers.Location.OriginalString)).Content.ReadAsStringAsync();
        PatientBrowser.Hidden(signInPage, "return").ShouldBe("/staff/accounts");

        _clock.Advance(TimeSpan.FromSeconds(30));
        var codePage = await PasswordStepAsync(staff, name, NewPassword, signInPage);
        var page = await codePage.Content.ReadAsStringAsync();
        Text(page, "second-factor-intro").ShouldStartWith("Mot de passe correct.");
        await ShouldHaveNoSessionAsync(staff, "the password alone opens no staff session");
        var code = CodeAt(key, _clock.GetUtcNow());
        var signedIn = await SecondStepAsync(staff, page, code);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedIn.Headers.Location!.OriginalString.ShouldBe("/staff/accounts");
        var accounts = await (await staff.GetAsync("/staff/accounts")).Content.ReadAsStringAsync();
        Text(accounts, "staff-accounts").ShouldContain($"{name} administrateur - oui");

        // The same code from another browser that has the password: refused, and recorded.
        using var thief = NewBrowser();
        var thiefPage = await (await PasswordStepAsync(thief, name, NewPassword)).Content.ReadAsStringAsync();
        var replayed = await SecondStepAsync(thief, thiefPage, code);
        replayed.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Alert(await replayed.Content.ReadAsStringAsync()).ShouldBe("Ce code a déjà servi. Attendez que votre application en affiche un nouveau.");
        await ShouldHaveNoSessionAsync(thief, "a replayed code opens nothing");
        var actor = await ActorOfAsync(name);
        (await RowsAsync(AuditEventTypes.StaffSignInRefused, actor)).Select(Reason).ShouldBe(["no_second_factor", "replayed"]);
        (await RowsAsync(AuditEventTypes.StaffSignedIn, actor)).Select(r => JsonDocument.Parse(r.Details!).RootElement.GetProperty("method").GetString())
            .ShouldBe(["enrolment", "totp"]);
    }

    [Fact]
    public async Task SignIn_ReturnsOnlyToPagesOfThisService()
    {
        var (name, key, _) = await EnrolledAsync(StaffRoles.Admin);
        using var staff = NewBrowser();
        var signInPage = await (await staff.GetAsync("/staff/login?return=" + Uri.EscapeDataString("//evil.example/x"))).Content.ReadAsStringAsync();
        PatientBrowser.Hidden(signInPage, "return").ShouldBeEmpty();

        _clock.Advance(TimeSpan.FromSeconds(30));
        var page = await (await PasswordStepAsync(staff, name, NewPassword, signInPage, returnPath: "https://evil.example/")).Content.ReadAsStringAsync();
        var signedIn = await SecondStepAsync(staff, page, CodeAt(key, _clock.GetUtcNow()));

        signedIn.Headers.Location!.OriginalString.ShouldBe("/staff");
    }

    [Fact]
    public async Task RecoveryCode_StandsInOnce_AndIsRecordedWithoutTheCode()
    {
        var (name, _, codes) = await EnrolledAsync(StaffRoles.Dpo);
        using var staff = NewBrowser();
        var page = await (await PasswordStepAsync(staff, name, NewPassword)).Content.ReadAsStringAsync();

        var used = await SecondStepAsync(staff, page, code: "", recoveryCode: codes[3].ToLowerInvariant());
        used.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var again = NewBrowser();
        var againPage = await (await PasswordStepAsync(again, name, NewPassword)).Content.ReadAsStringAsync();
        (await SecondStepAsync(again, againPage, code: "", recoveryCode: codes[3])).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "a recovery code works once");

        var row = (await RowsAsync(AuditEventTypes.StaffSignedIn, await ActorOfAsync(name))).Where(r => r.Details!.Contains("recovery_code", StringComparison.Ordinal)).ShouldHaveSingleItem();
        JsonDocument.Parse(row.Details!).RootElement.GetProperty("remaining").GetInt32().ShouldBe(9);
        row.AllText.ShouldNotContain(codes[3]);
        row.AllText.ShouldNotContain(codes[3].Replace("-", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongPassword_AndUnknownName_GetTheSameAnswer_AndAnonymousAuditRows()
    {
        var (name, _, _) = await EnrolledAsync(StaffRoles.Admin);
        using var staff = NewBrowser();
        var before = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffSignInRefused.Id)).Count;

        var wrongPassword = await PasswordStepAsync(staff, name, "not the right password at all");
        var unknownName = await PasswordStepAsync(staff, "nobody-" + name, "not the right password at all");

        wrongPassword.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        unknownName.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Alert(await wrongPassword.Content.ReadAsStringAsync()).ShouldBe("Identifiant ou mot de passe incorrect.");
        Alert(await unknownName.Content.ReadAsStringAsync()).ShouldBe("Identifiant ou mot de passe incorrect.");
        var rows = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffSignInRefused.Id)).Skip(before).ToList();
        rows.Count.ShouldBe(2);
        rows.Select(Reason).ShouldBe(["wrong_credentials", "wrong_credentials"]);
        rows.ShouldAllBe(r => r.Actor == "anonymous" && r.SubjectId == null);
        rows.Select(r => JsonDocument.Parse(r.Details!).RootElement.EnumerateObject().Select(p => p.Name).Order().ToList())
            .ShouldAllBe(keys => keys.SequenceEqual(new[] { "name_hash", "reason", "step" }));
        rows.ShouldAllBe(r => !r.AllText.Contains(name, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task FiveWrongPasswords_LockTheName_EvenForTheRightOne_ButNotAPatientOfTheSameName()
    {
        var (name, _, _) = await EnrolledAsync(StaffRoles.Admin);
        using var staff = NewBrowser();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            (await PasswordStepAsync(staff, name, "not the right password " + attempt)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var locked = await PasswordStepAsync(staff, name, NewPassword);

        locked.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        locked.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromMinutes(15));
        Alert(await locked.Content.ReadAsStringAsync()).ShouldStartWith("Trop d'essais pour cet identifiant");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffSignInRefused.Id, "locked_out")).Last().Actor.ShouldBe("anonymous");

        // The staff count is kept apart: a patient whose pseudonym is the same name signs in.
        using var patient = NewBrowser();
        await patient.SignUpAsync(name, "a long enough password");
        using var samePatient = NewBrowser();
        var patientPage = await (await samePatient.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var patientSignIn = await samePatient.PostFormAsync("/account/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(patientPage, "__RequestVerificationToken"),
            ["interaction"] = "",
            ["pseudonym"] = name,
            ["password"] = "a long enough password",
        });
        patientSignIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        patientSignIn.Headers.Location!.OriginalString.ShouldBe("/account");
    }

    [Fact]
    public async Task StaffSession_EndsAfter15IdleMinutes()
    {
        var (staff, _) = await SignedInAsync(StaffRoles.Admin);

        _clock.Advance(TimeSpan.FromMinutes(14));
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromMinutes(14));
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK, "activity keeps it open");
        _clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));

        await ShouldHaveNoSessionAsync(staff, "15 idle minutes end the staff session");
    }

    [Fact]
    public async Task StaffSession_JobDashboardPollsAreNoActivity_AnUnattendedTabStillEndsAfter15IdleMinutes()
    {
        var (staff, _) = await SignedInAsync(StaffRoles.Admin);
        var page = await staff.GetAsync("/staff/jobs");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        // The dashboard gives its scripts the antiforgery token in a meta element.
        var token = WebUtility.HtmlDecode(Regex.Match(await page.Content.ReadAsStringAsync(), "<meta name=\"csrf-token\" content=\"([^\"]*)\"").Groups[1].Value);
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["metrics[]"] = "recurring:count" };

        // What the dashboard's script does every few seconds while the tab stays open.
        staff.FetchMode = "cors";
        for (var minute = 0; minute < 14; minute += 2)
        {
            _clock.Advance(TimeSpan.FromMinutes(2));
            (await staff.PostFormAsync("/staff/jobs/stats", form)).StatusCode.ShouldBe(HttpStatusCode.OK, "the session is open, the poll is answered");
        }

        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        staff.FetchMode = null;
        await ShouldHaveNoSessionAsync(staff, "15 minutes with nothing but polls end the staff session");
    }

    [Fact]
    public async Task StaffSession_EndsAfter8Hours_HoweverActive()
    {
        var (staff, _) = await SignedInAsync(StaffRoles.Dpo);
        var copy = NewBrowser();
        staff.CopyCookiesTo(copy);

        for (var elapsed = TimeSpan.FromMinutes(10); elapsed < TimeSpan.FromHours(8); elapsed += TimeSpan.FromMinutes(10))
        {
            _clock.Advance(TimeSpan.FromMinutes(10));
            (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK, $"open after {elapsed}");
        }

        _clock.Advance(TimeSpan.FromMinutes(10));
        await ShouldHaveNoSessionAsync(staff, "8 hours end the staff session");
        await ShouldHaveNoSessionAsync(copy, "and every copy of its cookie");
        copy.Dispose();
    }

    [Fact]
    public async Task RemovedStaff_SessionEndsAtTheNextRequest()
    {
        var (staff, name) = await SignedInAsync(StaffRoles.Admin);
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<StaffAdministration>().RemoveAsync(name, CancellationToken.None)).ShouldBe(1);
        }

        await ShouldHaveNoSessionAsync(staff, "a removed account's session ends");
    }

    [Fact]
    public async Task SignOut_EndsTheSession_ForEveryCopyOfTheCookie_AndIsRecorded()
    {
        var (staff, name) = await SignedInAsync(StaffRoles.Admin);
        var actor = await ActorOfAsync(name);
        using var copy = NewBrowser();
        staff.CopyCookiesTo(copy);
        var home = await (await staff.GetAsync("/staff")).Content.ReadAsStringAsync();

        var signedOut = await staff.PostFormAsync("/staff/logout", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(home, "__RequestVerificationToken"),
        });

        signedOut.StatusCode.ShouldBe(HttpStatusCode.OK);
        Text(await signedOut.Content.ReadAsStringAsync(), "staff-signed-out").ShouldBe("Vous êtes déconnecté de l'espace équipe.");
        await ShouldHaveNoSessionAsync(staff, "signed out");
        await ShouldHaveNoSessionAsync(copy, "a copied cookie opens nothing after the sign-out");
        (await RowsAsync(AuditEventTypes.StaffSignedOut, actor)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task PatientSession_OnAStaffPage_IsRefusedWith403_ShowsNoStaffData_AndIsRecorded()
    {
        await EnrolledAsync(StaffRoles.Admin);
        using var patient = NewBrowser();
        var pseudonym = "curious-" + Guid.NewGuid().ToString("N")[..8];
        await patient.SignUpAsync(pseudonym, "a long enough password");

        var home = await patient.GetAsync("/staff");
        var accounts = await patient.GetAsync("/staff/accounts");

        home.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        accounts.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var page = await accounts.Content.ReadAsStringAsync();
        Text(page, "staff-refused").ShouldBe("Cette page est réservée à l'équipe du service. Vous êtes connecté à un espace patient, qui n'y donne pas accès. Ce refus est enregistré.");
        page.ShouldNotContain("staff-accounts");
        var patientId = (await StoreSql.ScalarAsync(_stores.Compliance, $"SELECT id FROM accounts WHERE pseudonym = '{pseudonym}'"))!.ToString()!;
        var rows = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffPagePatientRefused.Id))
            .Where(r => string.Equals(r.SubjectId, patientId, StringComparison.OrdinalIgnoreCase)).ToList();
        rows.Select(r => JsonDocument.Parse(r.Details!).RootElement.GetProperty("endpoint").GetString()).ShouldBe(["/staff", "/staff/accounts"]);
        rows.ShouldAllBe(r => r.Actor == "patient");
        rows.ShouldAllBe(r => !r.AllText.Contains(pseudonym));
    }

    [Fact]
    public async Task StaffSession_IsNoPatientSession_NeitherOnPatientPagesNorAtTheAuthorizationEndpoint()
    {
        var (staff, _) = await SignedInAsync(StaffRoles.Admin);
        var clientId = "staff-" + Guid.NewGuid().ToString("N")[..8];
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(clientId, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [], ["openid"],
                    ["authorization_code"], RequireConsent: false),
                CancellationToken.None);
        }

        (await staff.GetAsync("/account")).Headers.Location!.OriginalString.ShouldStartWith("/account/login");
        (await staff.GetAsync("/account/security")).Headers.Location!.OriginalString.ShouldStartWith("/account/login");
        var authorize = await staff.GetAsync($"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString($"https://{clientId}.example/cb")}"
            + "&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&prompt=none");
        authorize.Headers.Location!.OriginalString.ShouldStartWith($"https://{clientId}.example/cb?error=login_required");
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK, "while the staff session itself is open");
    }

    [Fact]
    public async Task Dpo_OnAnAdminPage_Gets403_AndTheRefusalIsRecorded()
    {
        var (dpo, name) = await SignedInAsync(StaffRoles.Dpo);

        var refused = await dpo.GetAsync("/staff/accounts");

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var page = await refused.Content.ReadAsStringAsync();
        Text(page, "staff-denied").ShouldBe("Cette page est réservée à un autre rôle que le vôtre (délégué à la protection des données). Ce refus est enregistré.");
        page.ShouldNotContain("id=\"staff-accounts\"");
        var row = (await RowsAsync(AuditEventTypes.StaffAccessDenied, await ActorOfAsync(name))).ShouldHaveSingleItem();
        row.Details.ShouldBe("""{"role":"dpo","endpoint":"/staff/accounts"}""");
        (await dpo.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task HostileInput_GetsA4xxPage_NeverA500_NorASession()
    {
        var (name, key, _) = await EnrolledAsync(StaffRoles.Admin);
        using var staff = NewBrowser();
        var signInPage = await (await staff.GetAsync("/staff/login")).Content.ReadAsStringAsync();
        var token = PatientBrowser.Hidden(signInPage, "__RequestVerificationToken");

        // No antiforgery token, or a wrong one.
        (await staff.PostFormAsync("/staff/login", new Dictionary<string, string> { ["name"] = name, ["password"] = NewPassword })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await staff.PostFormAsync("/staff/login", new Dictionary<string, string> { ["__RequestVerificationToken"] = "forged", ["name"] = name, ["password"] = NewPassword }))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        // Oversized and repeated fields.
        (await staff.PostFormAsync("/staff/login", new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["name"] = new string('a', 20_000), ["password"] = new string('b', 20_000) }))
            .StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var nul = await staff.PostFormAsync("/staff/login", new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["name"] = name + "\u0000\u202e", ["password"] = NewPassword });
        ((int)nul.StatusCode).ShouldBeInRange(400, 401, "a control character in a field is refused, never a 500");

        // Forged, truncated, another purpose's or another step's pending token, at both later steps.
        _clock.Advance(TimeSpan.FromSeconds(30));
        var codePage = await (await PasswordStepAsync(staff, name, NewPassword)).Content.ReadAsStringAsync();
        var pending = PatientBrowser.Hidden(codePage, "pending");
        var patientPending = await PatientPendingTokenAsync();
        foreach (var (path, forged) in new[]
        {
            ("/staff/login/second-factor", ""), ("/staff/login/second-factor", pending[..^4] + "AAAA"), ("/staff/login/second-factor", new string('A', 5000)),
            ("/staff/login/second-factor", patientPending), ("/staff/login/enrol", pending), ("/staff/login/enrol", "x"),
        })
        {
            var response = await staff.PostFormAsync(path, new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(codePage, "__RequestVerificationToken"),
                ["pending"] = forged,
                ["code"] = CodeAt(key, _clock.GetUtcNow()),
                ["new_password"] = "une autre phrase assez longue",
                ["new_password_confirm"] = "une autre phrase assez longue",
            });
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{path} with a forged pending token");
            var page = await response.Content.ReadAsStringAsync();
            page.ShouldContain("id=\"password\"");
            Alert(page).ShouldStartWith("Cette étape a expiré ou n'est pas valide.");
        }

        await ShouldHaveNoSessionAsync(staff, "no forged step opens a session");

        // A pending token outlives nobody: ten minutes on, the right code is refused.
        _clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        (await SecondStepAsync(staff, codePage, CodeAt(key, _clock.GetUtcNow()))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await ShouldHaveNoSessionAsync(staff, "an expired step opens nothing");
    }

    [Fact]
    public async Task StaffCookie_IsHttpOnlyStrictAndHostPrefixed_OverHttps()
    {
        using var https = _factory.WithWebHostBuilder(host => host.UseSetting("Oidc:Issuer", "https://compliance.example"));
        using var staff = new PatientBrowser(https.Server.CreateHandler(), new Uri("https://compliance.example"));
        var (name, initial) = await AddAsync(StaffRoles.Admin, https.Services);
        var page = await (await PasswordStepAsync(staff, name, initial)).Content.ReadAsStringAsync();

        var enrolled = await EnrolStepAsync(staff, page, CodeAt(Text(page, "totp-key"), _clock.GetUtcNow()));

        var cookie = enrolled.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-compliance-staff=", StringComparison.Ordinal)).ToLowerInvariant();
        cookie.ShouldContain("; path=/");
        cookie.ShouldContain("; secure");
        cookie.ShouldContain("; samesite=strict");
        cookie.ShouldContain("; httponly");
        cookie.ShouldNotContain("domain=");
        (await staff.GetAsync("/staff")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private Task<(string Name, string InitialPassword)> AddAsync(string role, IServiceProvider? services = null) =>
        StaffSignInSteps.AddAsync(services ?? _factory.Services, role);

    /// <summary>A staff account that went through its first sign-in: its name, its app's key and its recovery codes.</summary>
    private async Task<(string Name, string Key, IReadOnlyList<string> RecoveryCodes)> EnrolledAsync(string role)
    {
        var (staff, name, key, codes) = await FirstSignInAsync(role);
        staff.Dispose();
        return (name, key, codes);
    }

    /// <summary>A browser with an open staff session, and the account's name.</summary>
    private async Task<(PatientBrowser Staff, string Name)> SignedInAsync(string role)
    {
        var (staff, name, _, _) = await FirstSignInAsync(role);
        return (staff, name);
    }

    private async Task<(PatientBrowser Staff, string Name, string Key, IReadOnlyList<string> RecoveryCodes)> FirstSignInAsync(string role)
    {
        var staff = NewBrowser();
        var (name, key, page) = await StaffSignInSteps.FirstSignInAsync(staff, _factory.Services, role, _clock.GetUtcNow());
        return (staff, name, key, RecoveryCodes(page));
    }

    /// <summary>A patient's own pending second-factor token (sealed for the patient sign-in), to post where a staff one is expected.</summary>
    private async Task<string> PatientPendingTokenAsync()
    {
        using var patient = NewBrowser();
        var pseudonym = "pending-" + Guid.NewGuid().ToString("N")[..8];
        await patient.SignUpAsync(pseudonym, "a long enough password");
        var security = await (await patient.FollowAsync(await patient.GetAsync("/account/security"))).Content.ReadAsStringAsync();
        var begun = await (await patient.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
        })).Content.ReadAsStringAsync();
        await patient.PostFormAsync("/account/security/totp/confirm", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(begun, "__RequestVerificationToken"),
            ["code"] = CodeAt(Text(begun, "totp-key"), _clock.GetUtcNow()),
        });
        using var again = NewBrowser();
        var signIn = await (await again.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var second = await (await again.PostFormAsync("/account/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
            ["interaction"] = "",
            ["pseudonym"] = pseudonym,
            ["password"] = "a long enough password",
        })).Content.ReadAsStringAsync();
        var token = PatientBrowser.Hidden(second, "pending");
        token.ShouldNotBeEmpty();
        return token;
    }

    private static async Task ShouldHaveNoSessionAsync(PatientBrowser staff, string because)
    {
        var home = await staff.GetAsync("/staff");
        home.StatusCode.ShouldBe(HttpStatusCode.Redirect, because);
        home.Headers.Location!.OriginalString.ShouldBe("/staff/login?return=%2Fstaff", because);
    }

    /// <summary>The audit actor of a staff account: <c>staff:</c> and its id.</summary>
    private async Task<string> ActorOfAsync(string name) =>
        "staff:" + (await StoreSql.ScalarAsync(_stores.Compliance, $"SELECT id FROM staff_accounts WHERE user_name = '{name}'"))!.ToString()!.ToLowerInvariant();

    private async Task<List<AuditRow>> RowsAsync(AuditEventType type, string actor) =>
        [.. (await AuditRows.ReadAsync(_stores.Compliance, type.Id)).Where(r => r.Actor == actor)];

    private static string? Reason(AuditRow row) => JsonDocument.Parse(row.Details!).RootElement.GetProperty("reason").GetString();

    private PatientBrowser NewBrowser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));

    private static List<string> RecoveryCodes(string page) =>
        [.. RecoveryCode().Matches(page).Select(m => m.Groups[1].Value)];

    private static string Alert(string page) =>
        WebUtility.HtmlDecode(AlertPattern().Match(page).Groups[1].Value);

    [GeneratedRegex("<li><code>([2-9A-Z]{5}-[2-9A-Z]{5})</code></li>")]
    private static partial Regex RecoveryCode();

    [GeneratedRegex("<p class=\"alert\" role=\"alert\">([^<]*)</p>")]
    private static partial Regex AlertPattern();

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

public sealed class StaffSignInTests_Sqlite(SqliteStores stores) : StaffSignInTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class StaffSignInTests_Postgres(PostgresStores stores) : StaffSignInTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
