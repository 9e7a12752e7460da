using System.Net;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Sessions;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.Oidc.TotpPatients;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// Password change: the current password (or a second factor just proved), the sign-up rules for the new one, and
/// every other session ended, with the partners told by back-channel logout. Recorded without the password.
/// </summary>
public abstract class PasswordChangeTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string NewPassword = "another rather long phrase";
    private readonly TotpPatients _patients = new(stores);
    private readonly TStores _stores = stores;

    public void Dispose()
    {
        _patients.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WithTheCurrentPassword_ChangesIt_EndsTheOtherSessions_TellsTheirPartners_AndKeepsThisOne()
    {
        var (clientId, _) = await _patients.RegisterAsync(backchannelLogoutUri: "https://partner.example/bcl");
        var pseudonym = "change-" + Guid.NewGuid().ToString("N")[..8];

        // Another browser signed in and gave a partner an ID token in its session.
        using var other = _patients.NewBrowser();
        await other.SignUpAsync(pseudonym, Password);
        var consent = await (await other.FollowAsync(await other.GetAsync(AuthorizePath(clientId)))).Content.ReadAsStringAsync();
        (await other.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        })).Headers.Location!.ToString().ShouldStartWith(RedirectFor(clientId) + "?code=");

        using var patient = _patients.NewBrowser();
        (await patient.SignInAsync(pseudonym, Password)).Headers.Location!.OriginalString.ShouldBe("/account");
        var form = await (await patient.GetAsync("/account/password")).Content.ReadAsStringAsync();

        var wrong = await ChangeAsync(patient, form, "not the password at all", NewPassword);
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Alert(await wrong.Content.ReadAsStringAsync()).ShouldBe("Le mot de passe actuel n'est pas le bon.");
        (await other.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.OK, "a refusal changes nothing");

        var changed = await ChangeAsync(patient, form, Password, NewPassword);
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        Text(await changed.Content.ReadAsStringAsync(), "password-changed").ShouldBe("Votre mot de passe est changé. Sessions fermées ailleurs : 1.");

        (await other.GetAsync("/account")).Headers.Location!.OriginalString.ShouldStartWith("/account/login", customMessage: "the other session has ended");
        (await patient.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.OK, "this session goes on");
        await using (var scope = _patients.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            var ended = await db.Set<BrowserSession>().Where(s => s.EndReason == SessionEndReasons.PasswordChanged).Select(s => s.Id).ToListAsync();
            var delivery = await db.Set<LogoutDelivery>().SingleAsync(d => d.ClientId == clientId);
            ended.ShouldContain(delivery.SessionId, "the partner of the ended session is told by back-channel logout");
        }

        using var later = _patients.NewBrowser();
        (await later.SignInAsync(pseudonym, Password)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await later.SignInAsync(pseudonym, NewPassword)).Headers.Location!.OriginalString.ShouldBe("/account");

        var row = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.PasswordChanged.Id)).Last();
        row.Actor.ShouldBe("patient");
        JsonDocument.Parse(row.Details!).RootElement.GetProperty("other_sessions_ended").GetInt32().ShouldBe(1);
        row.AllText.ShouldNotContain(NewPassword);
        row.AllText.ShouldNotContain(Password);
    }

    [Fact]
    public async Task AFreshSecondFactor_StandsInForTheCurrentPassword_AndAPasswordSessionCannotSkipIt()
    {
        using var enrolled = await _patients.EnrolAsync("forgot-" + Guid.NewGuid().ToString("N")[..8]);
        var form = await (await enrolled.Patient.GetAsync("/account/password")).Content.ReadAsStringAsync();
        form.ShouldNotContain("id=\"current_password\" name=\"current_password\" autocomplete=\"current-password\" maxlength=\"256\" required");
        (await ChangeAsync(enrolled.Patient, form, "", NewPassword)).StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonDocument.Parse((await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.PasswordChanged.Id)).Last().Details!)
            .RootElement.GetProperty("with").GetString().ShouldBe("second_factor");

        // Past five minutes, the second factor is no longer fresh: the current password is asked again.
        _patients.Clock.Advance(TimeSpan.FromMinutes(6));
        form = await (await enrolled.Patient.GetAsync("/account/password")).Content.ReadAsStringAsync();
        (await ChangeAsync(enrolled.Patient, form, "", "yet another long phrase")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        using var passwordOnly = _patients.NewBrowser();
        await passwordOnly.SignUpAsync("skip-" + Guid.NewGuid().ToString("N")[..8], Password);
        form = await (await passwordOnly.GetAsync("/account/password")).Content.ReadAsStringAsync();
        (await ChangeAsync(passwordOnly, form, "", NewPassword)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("short", "short", "Le nouveau mot de passe doit compter au moins 12 caractères.")]
    [InlineData(NewPassword, "a different confirmation", "Les deux mots de passe")]
    [InlineData("password password", "password password", "Ce mot de passe est trop courant")]
    public async Task ANewPassword_FollowsTheSignUpRules(string password, string confirmation, string message)
    {
        using var patient = _patients.NewBrowser();
        await patient.SignUpAsync("rules-" + Guid.NewGuid().ToString("N")[..8], Password);
        var form = await (await patient.GetAsync("/account/password")).Content.ReadAsStringAsync();
        var refused = await ChangeAsync(patient, form, Password, password, confirmation);
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Alert(await refused.Content.ReadAsStringAsync()).ShouldStartWith(message);
    }

    [Fact]
    public async Task HostileForms_AreRefusedPlainly()
    {
        using var stranger = _patients.NewBrowser();
        (await stranger.GetAsync("/account/password")).Headers.Location!.OriginalString.ShouldBe("/account/login?return=%2Faccount%2Fpassword");

        using var patient = _patients.NewBrowser();
        await patient.SignUpAsync("hostile-" + Guid.NewGuid().ToString("N")[..8], Password);
        var form = await (await patient.GetAsync("/account/password")).Content.ReadAsStringAsync();
        (await patient.PostFormAsync("/account/password", new Dictionary<string, string> { ["current_password"] = Password, ["password"] = NewPassword, ["password_confirm"] = NewPassword }))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest, "no antiforgery token");
        (await ChangeAsync(patient, form, new string('x', 20_000), NewPassword)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await ChangeAsync(patient, form, Password, new string('y', 300))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ChangeAsync(stranger, form, Password, NewPassword)).StatusCode.ShouldBe(HttpStatusCode.BadRequest, "another browser's form, no session");
    }

    private static Task<HttpResponseMessage> ChangeAsync(PatientBrowser patient, string form, string current, string password, string? confirmation = null) =>
        patient.PostFormAsync("/account/password", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(form, "__RequestVerificationToken"),
            ["current_password"] = current,
            ["password"] = password,
            ["password_confirm"] = confirmation ?? password,
        });
}

public sealed class PasswordChangeTests_Sqlite(SqliteStores stores) : PasswordChangeTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PasswordChangeTests_Postgres(PostgresStores stores) : PasswordChangeTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
