using System.Net;
using System.Text.RegularExpressions;
using Compliance.Oidc.Accounts;
using Compliance.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>Password sign-in under attack and password rules at sign-up, in process, on both providers.</summary>
public abstract partial class SignInSecurityTests<TStores> : IDisposable
    where TStores : StoreFixture
{
    private const int MaxFailedSignIns = 5;
    private const string Password = "correct horse battery staple 42";
    private readonly CountingPasswordHasher _hasher = new();
    private readonly WebApplicationFactory<Program> _factory;

    protected SignInSecurityTests(TStores stores)
    {
        var settings = new Dictionary<string, string?>(stores.Settings)
        {
            ["Oidc:MaxFailedSignIns"] = MaxFailedSignIns.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Oidc:InteractiveRequestsPerMinute"] = "10000",
        };
        _factory = new ComplianceFactory(settings).WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<Account>>(_hasher)));
    }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WrongPasswords_TwentyInParallel_LockThePseudonymAfterAtMostMaxVerifications()
    {
        var pseudonym = await SignUpAsync("parallel");
        using var attacker = Browser();
        var form = await FormAsync(attacker, "/account/login");
        _hasher.Reset();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => PostAsync(attacker, "/account/login", form, pseudonym, $"wrong password {i:00}")));

        _hasher.Verifications.ShouldBeLessThanOrEqualTo(MaxFailedSignIns, "no more passwords are checked than the lockout allows");
        statuses.Count(s => s.Status == HttpStatusCode.Unauthorized).ShouldBeLessThanOrEqualTo(MaxFailedSignIns);
        var rightPassword = await PostAsync(attacker, "/account/login", form, pseudonym, Password);
        rightPassword.Status.ShouldBe(HttpStatusCode.TooManyRequests, "the pseudonym is locked, even for the right password");
        _hasher.Verifications.ShouldBeLessThanOrEqualTo(MaxFailedSignIns, "a locked pseudonym is refused without checking its password");
    }

    [Fact]
    public async Task LockedOut_ExistingAndUnknownPseudonym_GetTheSameAnswer()
    {
        var existing = await SignUpAsync("existing");
        var unknown = "unknown-" + Guid.NewGuid().ToString("N")[..8];
        using var browser = Browser();
        var form = await FormAsync(browser, "/account/login");

        var answers = new Dictionary<string, List<(HttpStatusCode Status, string Alert)>>();
        foreach (var pseudonym in new[] { existing, unknown })
        {
            answers[pseudonym] = [];
            for (var attempt = 0; attempt <= MaxFailedSignIns; attempt++)
            {
                answers[pseudonym].Add(await PostAsync(browser, "/account/login", form, pseudonym, "not the password at all"));
            }
        }

        answers[unknown].ShouldBe(answers[existing]);
        answers[existing][^1].Status.ShouldBe(HttpStatusCode.TooManyRequests);
        answers[existing][^1].Alert.ShouldBe("Too many attempts for this pseudonym: for your safety, signing in is blocked for 15 minutes. Try again after that.");
    }

    [Fact]
    public async Task SignedIn_AfterSomeWrongPasswords_StartsAgainFromZero()
    {
        var pseudonym = await SignUpAsync("reset");
        using var browser = Browser();
        var form = await FormAsync(browser, "/account/login");
        for (var attempt = 1; attempt < MaxFailedSignIns; attempt++)
        {
            (await PostAsync(browser, "/account/login", form, pseudonym, "not the password at all")).Status.ShouldBe(HttpStatusCode.Unauthorized);
        }

        (await PostAsync(browser, "/account/login", form, pseudonym, Password)).Status.ShouldBe(HttpStatusCode.Redirect);

        using var again = Browser();
        var againForm = await FormAsync(again, "/account/login");
        for (var attempt = 1; attempt < MaxFailedSignIns; attempt++)
        {
            (await PostAsync(again, "/account/login", againForm, pseudonym, "not the password at all")).Status.ShouldBe(HttpStatusCode.Unauthorized);
        }

        (await PostAsync(again, "/account/login", againForm, pseudonym, Password)).Status.ShouldBe(HttpStatusCode.Redirect);
    }

    [Theory]
    [InlineData("motdepasse123", "This password is too common")]
    [InlineData("azertyuiop12", "This password is too common")]
    [InlineData("123456789012", "This password is too common")]
    [InlineData("{pseudonym}-2026-secret!", "The password must not contain the pseudonym")]
    public async Task SignUp_WeakPassword_RefusedWithAClearMessage(string password, string message)
    {
        var pseudonym = "weak-" + Guid.NewGuid().ToString("N")[..8];
        password = password.Replace("{pseudonym}", pseudonym.ToUpperInvariant(), StringComparison.Ordinal);
        using var browser = Browser();
        var form = await FormAsync(browser, "/account/signup");

        var answer = await PostAsync(browser, "/account/signup", form, pseudonym, password, confirm: password);

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Alert.ShouldStartWith(message);
    }

    private async Task<string> SignUpAsync(string prefix)
    {
        var pseudonym = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        using var browser = Browser();
        var form = await FormAsync(browser, "/account/signup");
        (await PostAsync(browser, "/account/signup", form, pseudonym, Password, confirm: Password)).Status.ShouldBe(HttpStatusCode.Redirect);
        return pseudonym;
    }

    private HttpClient Browser()
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("en");
        return client;
    }

    private static async Task<string> FormAsync(HttpClient browser, string path) =>
        Hidden(await browser.GetStringAsync(path), "__RequestVerificationToken");

    private static async Task<(HttpStatusCode Status, string Alert)> PostAsync(HttpClient browser, string path, string token, string pseudonym, string password, string? confirm = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["pseudonym"] = pseudonym,
            ["password"] = password,
        };
        if (confirm is not null)
        {
            fields["password_confirm"] = confirm;
        }

        using var response = await browser.PostAsync(path, new FormUrlEncodedContent(fields));
        var html = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, WebUtility.HtmlDecode(AlertPattern().Match(html).Groups[1].Value));
    }

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Groups[1].Value);

    [GeneratedRegex("<p class=\"alert\" role=\"alert\">([^<]*)</p>")]
    private static partial Regex AlertPattern();

    /// <summary>The real hasher, counting how many passwords it was asked to check.</summary>
    private sealed class CountingPasswordHasher : IPasswordHasher<Account>
    {
        private readonly PasswordHasher<Account> _inner = new();
        private int _verifications;

        public int Verifications => Volatile.Read(ref _verifications);

        public void Reset() => Interlocked.Exchange(ref _verifications, 0);

        public string HashPassword(Account user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(Account user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}

public sealed class SignInSecurityTests_Sqlite(SqliteStores stores) : SignInSecurityTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SignInSecurityTests_Postgres(PostgresStores stores) : SignInSecurityTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
