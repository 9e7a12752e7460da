using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// The server on a clock the test moves, and the steps of a patient with an authenticator app, as a browser takes them
/// through the real pages. Codes are computed here as an app would, from the key the page showed (RFC 6238, written
/// independently of the server's code).
/// </summary>
public sealed class TotpPatients : IDisposable
{
    public const string Password = "a long enough password";
    public const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private readonly ComplianceFactory _root;

    public TotpPatients(StoreFixture stores, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _root = new ComplianceFactory(settings is null ? stores.Settings : stores.Settings.Concat(settings).ToDictionary(p => p.Key, p => p.Value));
        Factory = _root.WithWebHostBuilder(host => host.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton<TimeProvider>(Clock));
            services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, ClientAddressFilter>();
        }));
    }

    /// <summary>A header of the test host only: the in-memory server has no socket, so a test says where a browser is.</summary>
    public const string ClientAddressHeader = "X-Test-Client-Address";

    public TestClock Clock { get; } = new(DateTimeOffset.UtcNow);

    public WebApplicationFactory<Program> Factory { get; }

    public void Dispose()
    {
        Factory.Dispose();
        _root.Dispose();
    }

    public PatientBrowser NewBrowser() => new(Factory.Server.CreateHandler(), new Uri("http://localhost"));

    public async Task<(string ClientId, string Secret)> RegisterAsync(string? minimumAcr = null, string? backchannelLogoutUri = null)
    {
        var clientId = "totp-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = Factory.Services.CreateAsyncScope();
        var registered = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [RedirectFor(clientId)], [], ["openid"], ["authorization_code"],
                MinimumAcr: minimumAcr, BackchannelLogoutUri: backchannelLogoutUri),
            CancellationToken.None);
        return (clientId, registered.Secret!);
    }

    public static string RedirectFor(string clientId) => $"https://{clientId}.example/cb";

    public static string AuthorizePath(string clientId, string extra = "") =>
        $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectFor(clientId))}"
        + $"&scope=openid&code_challenge={Challenge}&code_challenge_method=S256&nonce=n{extra}";

    /// <summary>Signs up (a password session), then sets up the authenticator from "Account security" with its first code.</summary>
    public async Task<Enrolled> EnrolAsync(string pseudonym)
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
            ["code"] = CodeAt(key, Clock.GetUtcNow()),
        })).Content.ReadAsStringAsync();
        Text(confirmed, "totp-enabled").ShouldStartWith("C'est fait");
        var codes = RecoveryCodesOn(confirmed);
        codes.Count.ShouldBe(10);
        var security = await (await patient.GetAsync("/account/security")).Content.ReadAsStringAsync();
        Text(security, "totp-status").ShouldStartWith("Une application d'authentification est configurée");
        Text(security, "recovery-left").ShouldBe("Codes de secours restants : 10.");

        // The code used to confirm is spent: the next one comes with the next step.
        Clock.Advance(TimeSpan.FromSeconds(30));
        return new Enrolled(key, codes, patient);
    }

    public static List<string> RecoveryCodesOn(string page) =>
        Regex.Matches(page, "<li><code>([2-9A-Z]{5}-[2-9A-Z]{5})</code></li>").Select(m => m.Groups[1].Value).ToList();

    /// <summary>Starts an authorization request in a new sign-in and gets the password right: the page of the second step.</summary>
    public static async Task<(string Page, string Interaction)> PasswordStepAsync(PatientBrowser patient, string clientId, string pseudonym)
    {
        ArgumentNullException.ThrowIfNull(patient);
        var toSignIn = await patient.GetAsync(AuthorizePath(clientId));
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

    public static Task<HttpResponseMessage> SecondStepAsync(PatientBrowser patient, string page, string interaction, string code, string recoveryCode = "")
    {
        ArgumentNullException.ThrowIfNull(patient);
        return patient.PostFormAsync("/account/login/second-factor", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = interaction,
            ["pending"] = PatientBrowser.Hidden(page, "pending"),
            ["code"] = code,
            ["recovery_code"] = recoveryCode,
        });
    }

    /// <summary>Posts the step-up form of <paramref name="page"/> with a code.</summary>
    public static Task<HttpResponseMessage> StepUpAsync(PatientBrowser patient, string page, string code, string recoveryCode = "")
    {
        ArgumentNullException.ThrowIfNull(patient);
        return patient.PostFormAsync("/account/step-up", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(page, "interaction"),
            ["return"] = PatientBrowser.Hidden(page, "return"),
            ["code"] = code,
            ["recovery_code"] = recoveryCode,
        });
    }

    /// <summary>Exchanges the code of a callback at the token endpoint and returns the ID token's claims.</summary>
    public async Task<JsonElement> ExchangeAsync(string clientId, string secret, Uri callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query)["code"].ToString();
        code.ShouldNotBeNullOrEmpty(callback.ToString());
        using var client = Factory.CreateClient();
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

    /// <summary>What an authenticator app shows at <paramref name="at"/> for a base32 key (RFC 6238: HMAC-SHA1, 30 s, 6 digits).</summary>
    public static string CodeAt(string base32Key, DateTimeOffset at, int stepOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(base32Key);
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

    /// <summary>The alert a page shows, decoded.</summary>
    public static string Alert(string page) =>
        WebUtility.HtmlDecode(Regex.Match(page, "<p class=\"alert\" role=\"alert\">([^<]*)</p>").Groups[1].Value);

    /// <summary>An enrolled patient: the app's key, the recovery codes shown once, and the browser still signed in (eidas2).</summary>
    public sealed record Enrolled(string Key, IReadOnlyList<string> RecoveryCodes, PatientBrowser Patient) : IDisposable
    {
        public void Dispose() => Patient.Dispose();
    }
}

/// <summary>Sets the connection's remote address from <see cref="TotpPatients.ClientAddressHeader"/>, first in the pipeline.</summary>
internal sealed class ClientAddressFilter : Microsoft.AspNetCore.Hosting.IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (System.Net.IPAddress.TryParse(context.Request.Headers[TotpPatients.ClientAddressHeader].ToString(), out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}

/// <summary>A clock that moves only when the test says.</summary>
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
