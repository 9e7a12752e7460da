using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A patient sets up an authenticator app on "Account security"; from then on a sign-in asks for its code after the
/// password, the password alone opens no session, a code works once, and the partner's ID token says eidas2. Codes
/// are computed here as an authenticator app would, from the key the page showed (RFC 6238, written independently of
/// the server's code).
/// </summary>
public abstract class SecondFactorTests<TStores> : IDisposable
    where TStores : StoreFixture
{
    private const string Password = "a long enough password";
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private readonly Clock _clock = new(DateTimeOffset.UtcNow);
    private readonly ComplianceFactory _root;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly TStores _stores;

    protected SecondFactorTests(TStores stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _stores = stores;
        _root = new ComplianceFactory(stores.Settings);
        _factory = _root.WithWebHostBuilder(host => host.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_clock))));
    }

    public void Dispose()
    {
        _factory.Dispose();
        _root.Dispose();
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
        _clock.Advance(TimeSpan.FromSeconds(30));
        var (page, interaction) = await PasswordStepAsync(patient, clientId, pseudonym);
        Text(page, "second-factor-intro").ShouldStartWith("Votre mot de passe est correct.");
        (await patient.GetAsync("/account")).Headers.Location!.ToString().ShouldStartWith("/account/login", customMessage: "the password alone opens no session");

        var wrong = await SecondStepAsync(patient, page, interaction, CodeAt(key, _clock.GetUtcNow(), stepOffset: 3));
        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var code = CodeAt(key, _clock.GetUtcNow());
        var consent = await patient.FollowAsync(await SecondStepAsync(patient, await wrong.Content.ReadAsStringAsync(), interaction, code));
        var consentPage = await consent.Content.ReadAsStringAsync();
        consentPage.ShouldContain("id=\"allow\"");

        var decided = await patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(consentPage, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(consentPage, "interaction"),
            ["decision"] = "allow",
        });
        var idToken = await ExchangeAsync(clientId, secret, decided.Headers.Location!);
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
        var (_, codes, enrolled) = await EnrolWithRecoveryCodesAsync(pseudonym);
        using var owner = enrolled;
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
        _clock.Advance(TimeSpan.FromSeconds(30));
        var (page, interaction) = await PasswordStepAsync(patient, clientId, pseudonym);
        var pending = PatientBrowser.Hidden(page, "pending");

        foreach (var forged in new[] { "", pending[..^4] + "AAAA", new string('A', 5000) })
        {
            var response = await patient.PostFormAsync("/account/login/second-factor", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
                ["interaction"] = interaction,
                ["pending"] = forged,
                ["code"] = CodeAt(key, _clock.GetUtcNow()),
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

    /// <summary>Signs up, sets up the authenticator on "Account security" with its first code, and returns the key.</summary>
    private async Task<string> EnrolAsync(string pseudonym)
    {
        var (key, _, patient) = await EnrolWithRecoveryCodesAsync(pseudonym);
        patient.Dispose();
        return key;
    }

    /// <summary>As <see cref="EnrolAsync"/>, with the recovery codes the page showed once.</summary>
    private async Task<(string Key, IReadOnlyList<string> RecoveryCodes, PatientBrowser Patient)> EnrolWithRecoveryCodesAsync(string pseudonym)
    {
        var patient = NewBrowser();
        await patient.SignUpAsync(pseudonym, Password);
        // A password session is sent from "Account security" to setting up a second factor, which it may do.
        var toSetup = await patient.GetAsync("/account/security");
        toSetup.Headers.Location!.OriginalString.ShouldStartWith("/account/security/setup");
        var start = await (await patient.FollowAsync(toSetup)).Content.ReadAsStringAsync();
        Text(start, "totp-status").ShouldStartWith("Aucune application d'authentification n'est configurée");
        var begun = await (await patient.PostFormAsync("/account/security/totp", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(start, "__RequestVerificationToken"),
        })).Content.ReadAsStringAsync();
        var key = Text(begun, "totp-key");
        Attribute(begun, "#totp-uri", "href").ShouldStartWith($"otpauth://totp/Compliance:{pseudonym}?secret={key}");

        var confirmed = await (await patient.PostFormAsync("/account/security/totp/confirm", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(begun, "__RequestVerificationToken"),
            ["code"] = CodeAt(key, _clock.GetUtcNow()),
        })).Content.ReadAsStringAsync();
        Text(confirmed, "totp-enabled").ShouldStartWith("C'est fait");
        var codes = System.Text.RegularExpressions.Regex.Matches(confirmed, "<li><code>([2-9A-Z]{5}-[2-9A-Z]{5})</code></li>").Select(m => m.Groups[1].Value).ToList();
        codes.Count.ShouldBe(10);
        var security = await (await patient.GetAsync("/account/security")).Content.ReadAsStringAsync();
        Text(security, "totp-status").ShouldStartWith("Une application d'authentification est configurée");
        Text(security, "recovery-left").ShouldBe("Codes de secours restants : 10.");
        return (key, codes, patient);
    }

    private static async Task<(string Page, string Interaction)> PasswordStepAsync(PatientBrowser patient, string clientId, string pseudonym)
    {
        var toSignIn = await patient.GetAsync($"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectFor(clientId))}"
            + $"&scope=openid&code_challenge={Challenge}&code_challenge_method=S256&nonce=n");
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var signIn = await (await patient.GetAsync(toSignIn.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        var response = await patient.PostFormAsync("/account/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
            ["interaction"] = interaction,
            ["pseudonym"] = pseudonym,
            ["password"] = Password,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadAsStringAsync(), interaction);
    }

    private static Task<HttpResponseMessage> RecoveryStepAsync(PatientBrowser patient, string page, string interaction, string recoveryCode) =>
        SecondStepAsync(patient, page, interaction, code: "", recoveryCode);

    private static Task<HttpResponseMessage> SecondStepAsync(PatientBrowser patient, string page, string interaction, string code, string recoveryCode = "") =>
        patient.PostFormAsync("/account/login/second-factor", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = interaction,
            ["pending"] = PatientBrowser.Hidden(page, "pending"),
            ["code"] = code,
            ["recovery_code"] = recoveryCode,
        });

    private async Task<JsonElement> ExchangeAsync(string clientId, string secret, Uri callback)
    {
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query)["code"].ToString();
        using var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        var response = await client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectFor(clientId), ["code_verifier"] = Verifier,
        }));
        var tokens = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        response.StatusCode.ShouldBe(HttpStatusCode.OK, tokens.ToString());
        var payload = tokens.GetProperty("id_token").GetString()!.Split('.')[1];
        return JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(payload)).RootElement;
    }

    private PatientBrowser NewBrowser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));

    private async Task<(string ClientId, string Secret)> RegisterAsync()
    {
        var clientId = "totp-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        var registered = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [RedirectFor(clientId)], [], ["openid"], ["authorization_code"]),
            CancellationToken.None);
        return (clientId, registered.Secret!);
    }

    private static string RedirectFor(string clientId) => $"https://{clientId}.example/cb";

    /// <summary>What an authenticator app shows at <paramref name="at"/> for a base32 key (RFC 6238: HMAC-SHA1, 30 s, 6 digits).</summary>
    private static string CodeAt(string base32Key, DateTimeOffset at, int stepOffset = 0)
    {
        var bits = string.Concat(base32Key.Select(c => Convert.ToString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".IndexOf(c, StringComparison.Ordinal), 2).PadLeft(5, '0')));
        var key = Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
        var counter = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, (at.ToUnixTimeSeconds() / 30) + stepOffset);
#pragma warning disable CA5350 // RFC 6238's HMAC-SHA1, as authenticator apps compute it
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFF_FFFF) % 1_000_000;
        return value.ToString("D6", CultureInfo.InvariantCulture);
    }

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

public sealed class SecondFactorTests_Sqlite(SqliteStores stores) : SecondFactorTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SecondFactorTests_Postgres(PostgresStores stores) : SecondFactorTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
