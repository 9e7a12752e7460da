using System.Net;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.Oidc.TotpPatients;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// Passkey ceremonies over HTTP, answered by a software authenticator that can lie: a user-verified passkey alone signs in
/// at eidas2; forged, replayed, foreign-origin, foreign-RP, unverified and another account's assertions are refused with
/// a plain message, open or raise no session, and are recorded.
/// </summary>
public abstract class PasskeyTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Origin = "http://localhost:5080";
    private readonly TotpPatients _patients = new(stores, new Dictionary<string, string?> { ["Oidc:Issuer"] = Origin });
    private readonly TStores _stores = stores;

    public void Dispose()
    {
        _patients.Dispose();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData(false, "hwk")]
    [InlineData(true, "swk")]
    public async Task APasskeyAlone_SignsInThroughAPartner_AtEidas2_AndIsListedWithItsAuthenticatorModel(bool synced, string method)
    {
        var (clientId, secret) = await _patients.RegisterAsync();
        using var authenticator = new SoftwareAuthenticator();
        using var owner = _patients.NewBrowser();
        await owner.SignUpAsync("key-" + Guid.NewGuid().ToString("N")[..8], Password);
        var registered = await RegisterAsync(owner, authenticator, backupEligible: synced);
        registered.Response.Headers.Location!.OriginalString.ShouldBe("/account/security");
        var security = await (await owner.GetAsync("/account/security")).Content.ReadAsStringAsync();
        Text(security, "passkeys").ShouldContain("Clé de test");
        await using (var scope = _patients.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            (await db.Set<IdentityUserPasskey<Guid>>().Where(p => p.Data.Name == "Clé de test").Select(p => EF.Property<Guid?>(p, "Aaguid")).ToListAsync())
                .ShouldContain(SoftwareAuthenticator.Aaguid);
        }

        using var patient = _patients.NewBrowser();
        var toSignIn = await patient.GetAsync(AuthorizePath(clientId));
        var signIn = await (await patient.GetAsync(toSignIn.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        var answered = await PasskeySignInAsync(patient, signIn, authenticator);
        var consent = await (await patient.FollowAsync(answered)).Content.ReadAsStringAsync();
        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        });
        var idToken = await _patients.ExchangeAsync(clientId, secret, decided.Headers.Location!);
        idToken.GetProperty("acr").GetString().ShouldBe("eidas2");
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe([method, "mfa"]);
    }

    [Theory]
    [InlineData("other-origin")]
    [InlineData("other-rp")]
    [InlineData("no-user-verification")]
    [InlineData("broken-signature")]
    public async Task ABentAssertion_OpensNoSession_AndIsRecorded(string bend)
    {
        using var authenticator = new SoftwareAuthenticator();
        using var owner = _patients.NewBrowser();
        await owner.SignUpAsync("bent-" + Guid.NewGuid().ToString("N")[..8], Password);
        await RegisterAsync(owner, authenticator);
        var before = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.PasskeyRefused.Id)).Count;

        using var attacker = _patients.NewBrowser();
        var signIn = await (await attacker.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var refused = await PasskeySignInAsync(attacker, signIn, authenticator, bend switch
        {
            "other-origin" => new SoftwareAuthenticator.Bend(Origin: "https://evil.example"),
            "other-rp" => new SoftwareAuthenticator.Bend(RpId: "evil.example"),
            "no-user-verification" => new SoftwareAuthenticator.Bend(NoUserVerification: true),
            _ => new SoftwareAuthenticator.Bend(BreakSignature: true),
        });

        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Alert(await refused.Content.ReadAsStringAsync()).ShouldStartWith("Cette passkey n'a pas été acceptée");
        (await attacker.GetAsync("/account")).Headers.Location!.OriginalString.ShouldStartWith("/account/login");
        var rows = await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.PasskeyRefused.Id);
        rows.Count.ShouldBe(before + 1);
        rows[^1].ShouldHoldOnlyIdsAndEnumeratedValues();
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json at all")]
    [InlineData("{\"id\":\"AAAA\",\"type\":\"public-key\",\"response\":{}}")]
    public async Task AForgedCredential_OrOneTooLarge_IsRefusedPlainly(string credential)
    {
        using var attacker = _patients.NewBrowser();
        var signIn = await (await attacker.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var (_, state) = await OptionsAsync(attacker, "/account/login/passkey/options", signIn);
        foreach (var forged in new[] { credential, new string('x', 70_000) })
        {
            var refused = await attacker.PostFormAsync("/account/login/passkey", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
                ["credential"] = forged,
                ["state"] = state,
            });
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task AnAssertionPostedTwice_WorksOnce()
    {
        using var authenticator = new SoftwareAuthenticator();
        using var owner = _patients.NewBrowser();
        await owner.SignUpAsync("replay-" + Guid.NewGuid().ToString("N")[..8], Password);
        await RegisterAsync(owner, authenticator);

        using var patient = _patients.NewBrowser();
        var signIn = await (await patient.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var (options, state) = await OptionsAsync(patient, "/account/login/passkey/options", signIn);
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
            ["credential"] = authenticator.Get(options, Origin),
            ["state"] = state,
        };
        (await patient.PostFormAsync("/account/login/passkey", form)).Headers.Location!.OriginalString.ShouldBe("/account");

        using var thief = _patients.NewBrowser();
        var thiefPage = await (await thief.GetAsync("/account/login")).Content.ReadAsStringAsync();
        form["__RequestVerificationToken"] = PatientBrowser.Hidden(thiefPage, "__RequestVerificationToken");
        (await thief.PostFormAsync("/account/login/passkey", form)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "the ceremony is used up");
    }

    [Fact]
    public async Task AnotherAccountsPasskey_DoesNotStepUpThisSession_AndIsRecordedAgainstIt()
    {
        using var victimKey = new SoftwareAuthenticator();
        using var victim = _patients.NewBrowser();
        await victim.SignUpAsync("victim-" + Guid.NewGuid().ToString("N")[..8], Password);
        var victimCredential = (await RegisterAsync(victim, victimKey)).CredentialId;

        // The attacker's own account, with its own passkey, signed in here with its password only (eidas1).
        using var attackerKey = new SoftwareAuthenticator();
        var attackerPseudonym = "attacker-" + Guid.NewGuid().ToString("N")[..8];
        using (var first = _patients.NewBrowser())
        {
            await first.SignUpAsync(attackerPseudonym, Password);
            await RegisterAsync(first, attackerKey);
        }

        using var attacker = _patients.NewBrowser();
        (await attacker.SignInAsync(attackerPseudonym, Password)).Headers.Location!.OriginalString.ShouldBe("/account");
        var stepUp = await (await attacker.FollowAsync(await attacker.GetAsync("/account/security"))).Content.ReadAsStringAsync();
        stepUp.ShouldContain("id=\"passkey-step-up\"");
        var (options, state) = await OptionsAsync(attacker, "/account/step-up/passkey/options", stepUp);
        victimKey.Share(victimCredential, attackerKey);
        var refused = await attacker.PostFormAsync("/account/step-up/passkey", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(stepUp, "__RequestVerificationToken"),
            ["credential"] = attackerKey.Get(options, Origin, victimCredential),
            ["state"] = state,
        });

        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await attacker.GetAsync("/account/security")).Headers.Location!.OriginalString.ShouldStartWith("/account/step-up", customMessage: "still eidas1");
        var row = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.PasskeyRefused.Id)).Last();
        JsonDocument.Parse(row.Details!).RootElement.GetProperty("ceremony").GetString().ShouldBe("step_up");
        row.SubjectId.ShouldNotBeNull();
    }

    [Fact]
    public async Task APasswordSession_CannotAddAFactorToAnAccountThatHasOne()
    {
        using var authenticator = new SoftwareAuthenticator();
        var pseudonym = "guarded-" + Guid.NewGuid().ToString("N")[..8];
        using (var owner = _patients.NewBrowser())
        {
            await owner.SignUpAsync(pseudonym, Password);
            await RegisterAsync(owner, authenticator);
        }

        using var thief = _patients.NewBrowser();
        await thief.SignInAsync(pseudonym, Password);
        var page = await (await thief.GetAsync("/account/login")).Content.ReadAsStringAsync();
        var options = await thief.PostFormAsync("/account/passkeys/options", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
        });
        options.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await options.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString().ShouldBe("passkey_options_refused");
        (await thief.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
        })).StatusCode.ShouldBe(HttpStatusCode.BadRequest, "nor an authenticator app");
    }

    [Fact]
    public async Task APasskey_IsRenamedAtEidas2_AndRemovedOnlyAfterAFreshStepUp()
    {
        using var authenticator = new SoftwareAuthenticator();
        using var owner = _patients.NewBrowser();
        await owner.SignUpAsync("rename-" + Guid.NewGuid().ToString("N")[..8], Password);
        var credentialId = (await RegisterAsync(owner, authenticator)).CredentialId;
        var security = await (await owner.GetAsync("/account/security")).Content.ReadAsStringAsync();
        var id = PatientBrowser.Hidden(security, "id");
        id.ShouldBe(credentialId);

        var renamed = await owner.PostFormAsync("/account/passkeys/rename", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
            ["id"] = id,
            ["name"] = "Ordinateur du bureau",
        });
        renamed.Headers.Location!.OriginalString.ShouldBe("/account/security");
        security = await (await owner.GetAsync("/account/security")).Content.ReadAsStringAsync();
        Text(security, "passkeys").ShouldContain("Ordinateur du bureau");

        foreach (var (hostileId, name) in new[] { ("AAAA", "x"), (id, ""), (id, new string('n', 65)), (new string('A', 5000), "x") })
        {
            (await owner.PostFormAsync("/account/passkeys/rename", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"),
                ["id"] = hostileId,
                ["name"] = name,
            })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        // Removing is among the most sensitive actions: past five minutes, the passkey is asked for again first.
        _patients.Clock.Advance(TimeSpan.FromMinutes(6));
        var remove = new Dictionary<string, string> { ["__RequestVerificationToken"] = PatientBrowser.Hidden(security, "__RequestVerificationToken"), ["id"] = id };
        var stale = await owner.PostFormAsync("/account/passkeys/remove", remove);
        stale.Headers.Location!.OriginalString.ShouldBe("/account/step-up?return=%2Faccount%2Fsecurity");
        var stepUp = await (await owner.GetAsync("/account/step-up?return=%2Faccount%2Fsecurity")).Content.ReadAsStringAsync();
        var (options, state) = await OptionsAsync(owner, "/account/step-up/passkey/options", stepUp);
        var raised = await owner.PostFormAsync("/account/step-up/passkey", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(stepUp, "__RequestVerificationToken"),
            ["return"] = PatientBrowser.Hidden(stepUp, "return"),
            ["credential"] = authenticator.Get(options, Origin),
            ["state"] = state,
        });
        raised.Headers.Location!.OriginalString.ShouldBe("/account/security");

        (await owner.PostFormAsync("/account/passkeys/remove", remove)).Headers.Location!.OriginalString.ShouldBe("/account/security");
        (await owner.GetAsync("/account/security")).Headers.Location!.OriginalString.ShouldBe("/account/security/setup", "no factor left");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.SecondFactorRemoved.Id)).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task ExceededMaxAge_IsMetByThePasskeyAlone_WithAFreshAuthTime()
    {
        var (clientId, secret) = await _patients.RegisterAsync();
        using var authenticator = new SoftwareAuthenticator();
        using var patient = _patients.NewBrowser();
        await patient.SignUpAsync("maxage-key-" + Guid.NewGuid().ToString("N")[..8], Password);
        await RegisterAsync(patient, authenticator);
        var consent = await (await patient.FollowAsync(await patient.GetAsync(AuthorizePath(clientId)))).Content.ReadAsStringAsync();
        await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consent, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consent, "interaction"),
            ["decision"] = "allow",
        });
        _patients.Clock.Advance(TimeSpan.FromMinutes(10));

        var toStepUp = await patient.GetAsync(AuthorizePath(clientId, "&max_age=60"));
        toStepUp.Headers.Location!.OriginalString.ShouldStartWith("/account/step-up?interaction=", customMessage: "the passkey again, not the whole sign-in");
        var page = await (await patient.GetAsync(toStepUp.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        page.ShouldNotContain("id=\"code\"", customMessage: "no app: the passkey only");
        var (options, state) = await OptionsAsync(patient, "/account/step-up/passkey/options", page);
        var resumed = await patient.PostFormAsync("/account/step-up/passkey", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(page, "interaction"),
            ["credential"] = authenticator.Get(options, Origin),
            ["state"] = state,
        });
        var callback = (await patient.FollowAsync(resumed)).Headers.Location!;
        var idToken = await _patients.ExchangeAsync(clientId, secret, callback);
        idToken.GetProperty("auth_time").GetInt64().ShouldBe(_patients.Clock.GetUtcNow().ToUnixTimeSeconds());
        idToken.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).ShouldBe(["pwd", "hwk", "mfa"]);
    }

    [Fact]
    public async Task TheScript_RunsOnlyOnTheSignInStepUpAndSecurityPages_ByANonceOfEachResponse()
    {
        using var patient = _patients.NewBrowser();
        var first = await patient.GetAsync("/account/login");
        var second = await patient.GetAsync("/account/login");
        foreach (var page in new[] { first, second })
        {
            var policy = page.Headers.GetValues("Content-Security-Policy").Single();
            var nonce = System.Text.RegularExpressions.Regex.Match(policy, "script-src 'nonce-([A-Za-z0-9+/=]+)'; connect-src 'self'").Groups[1].Value;
            nonce.Length.ShouldBeGreaterThan(20);
            (await page.Content.ReadAsStringAsync()).ShouldContain($"<script nonce=\"{nonce}\" src=\"/assets/passkeys.js\" defer></script>");
        }

        first.Headers.GetValues("Content-Security-Policy").Single().ShouldNotBe(second.Headers.GetValues("Content-Security-Policy").Single(), "a nonce per response");
        var script = await patient.GetAsync("/assets/passkeys.js");
        script.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");

        await patient.SignUpAsync("noscript-" + Guid.NewGuid().ToString("N")[..8], Password);
        foreach (var path in new[] { "/account", "/account/signup", "/account/password", "/privacy?lang=fr" })
        {
            var page = await patient.GetAsync(path);
            page.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'none'", customMessage: path);
            (await page.Content.ReadAsStringAsync()).ShouldNotContain("<script", customMessage: path);
        }
    }

    /// <summary>Adds a passkey from the page "Account security" leads to; returns the answer and the credential id.</summary>
    private static async Task<(HttpResponseMessage Response, string CredentialId)> RegisterAsync(PatientBrowser patient, SoftwareAuthenticator authenticator, bool backupEligible = false)
    {
        var page = await (await patient.FollowAsync(await patient.GetAsync("/account/security"))).Content.ReadAsStringAsync();
        page.ShouldContain("id=\"passkey-add\"");
        var (options, state) = await OptionsAsync(patient, "/account/passkeys/options", page);
        var (credential, id) = authenticator.Create(options, Origin, backupEligible: backupEligible);
        var response = await patient.PostFormAsync("/account/passkeys", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["credential"] = credential,
            ["state"] = state,
            ["name"] = "Clé de test",
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return (response, id);
    }

    private static async Task<HttpResponseMessage> PasskeySignInAsync(PatientBrowser patient, string signInPage, SoftwareAuthenticator authenticator, SoftwareAuthenticator.Bend bend = default)
    {
        var (options, state) = await OptionsAsync(patient, "/account/login/passkey/options", signInPage);
        return await patient.PostFormAsync("/account/login/passkey", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signInPage, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(signInPage, "interaction"),
            ["credential"] = authenticator.Get(options, Origin, bend: bend),
            ["state"] = state,
        });
    }

    /// <summary>What the page's script fetches first: the ceremony's options and its sealed state.</summary>
    private static async Task<(JsonElement Options, string State)> OptionsAsync(PatientBrowser patient, string path, string page)
    {
        var response = await patient.PostFormAsync(path, new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
        });
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("options").Clone(), json.GetProperty("state").GetString()!);
    }
}

public sealed class PasskeyTests_Sqlite(SqliteStores stores) : PasskeyTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PasskeyTests_Postgres(PostgresStores stores) : PasskeyTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
