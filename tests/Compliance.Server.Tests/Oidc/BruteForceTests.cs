using System.Net;
using Compliance.Oidc;
using Compliance.Testing;
using static Compliance.Server.Tests.Oidc.TotpPatients;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// How likely is a thief who knows the password to guess the TOTP code? The odds are computed here from the documented
/// lockout rules (written again, not taken from the server), then the rules are checked against the server on a clock
/// the test moves: a day of trying as fast as it lets, with codes that are certainly wrong.
/// </summary>
public abstract class BruteForceTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    // The per-address rate limit is another defence: it is lifted so that only the per-pseudonym lockout counts.
    private readonly TotpPatients _patients = new(stores, new Dictionary<string, string?> { ["Oidc:InteractiveRequestsPerMinute"] = "10000" });

    public void Dispose()
    {
        _patients.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The README's rules with the default settings: 5 tries, then a lock of 15 min, each next lock 4 times longer,
    /// never more than a day. A TOTP check accepts the current code and one either side: 3 in a million.
    /// </summary>
    private static int MostTriesInADay(OidcOptions options)
    {
        var (tries, elapsed, lockMinutes) = (0, 0.0, (double)options.LockoutMinutes);
        while (elapsed < TimeSpan.FromDays(1).TotalMinutes)
        {
            tries += options.MaxFailedSignIns;
            elapsed += lockMinutes;
            lockMinutes = Math.Min(lockMinutes * options.LockoutGrowth, options.MaxLockoutMinutes);
        }

        return tries;
    }

    [Fact]
    public void OddsOfGuessingACode_InADayOfSustainedTries_AreAtMostOneInTenThousand()
    {
        var tries = MostTriesInADay(new OidcOptions());
        tries.ShouldBe(25);
        var odds = 1 - Math.Pow(1 - (3 / 1e6), tries);
        odds.ShouldBeLessThanOrEqualTo(1e-4);
    }

    [Fact]
    public async Task TheServer_LetsADayOfSustainedTries_CheckNoMoreThanTheRulesSay()
    {
        using var enrolled = await _patients.EnrolAsync("target-" + Guid.NewGuid().ToString("N")[..8]);
        var pseudonym = PageElements.Text(await (await enrolled.Patient.GetAsync("/account/security")).Content.ReadAsStringAsync(), "signed-in-pseudonym");
        var (clientId, _) = await _patients.RegisterAsync();
        using var thief = _patients.NewBrowser();
        var start = _patients.Clock.GetUtcNow();
        var (checkedTries, locks) = (0, new List<double>());

        while (_patients.Clock.GetUtcNow() < start.AddDays(1))
        {
            var toSignIn = await thief.GetAsync(AuthorizePath(clientId));
            var signIn = await (await thief.GetAsync(toSignIn.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
            var password = await thief.PostFormAsync("/account/login", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(signIn, "__RequestVerificationToken"),
                ["interaction"] = PatientBrowser.Hidden(signIn, "interaction"),
                ["pseudonym"] = pseudonym,
                ["password"] = Password,
            });
            if (WaitOutTheLock(password))
            {
                continue;
            }

            password.StatusCode.ShouldBe(HttpStatusCode.OK);
            checkedTries++;
            var page = await password.Content.ReadAsStringAsync();
            while (true)
            {
                var guess = await SecondStepAsync(thief, page, PatientBrowser.Hidden(page, "interaction"), CertainlyWrongCode(enrolled.Key));
                if (WaitOutTheLock(guess))
                {
                    break;
                }

                guess.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
                checkedTries++;
                page = await guess.Content.ReadAsStringAsync();
            }
        }

        checkedTries.ShouldBe(MostTriesInADay(new OidcOptions()));
        locks.ShouldBe([15, 60, 240, 960, 1440]);

        bool WaitOutTheLock(HttpResponseMessage response)
        {
            if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                return false;
            }

            var wait = response.Headers.RetryAfter!.Delta!.Value;
            locks.Add(wait.TotalMinutes);
            _patients.Clock.Advance(wait);
            return true;
        }
    }

    /// <summary>A code of a step far from now, and not by chance one the server would accept.</summary>
    private string CertainlyWrongCode(string key)
    {
        var now = _patients.Clock.GetUtcNow();
        var accepted = new[] { -1, 0, 1 }.Select(offset => CodeAt(key, now, offset)).ToHashSet();
        return Enumerable.Range(5, 20).Select(offset => CodeAt(key, now, offset)).First(code => !accepted.Contains(code));
    }
}

public sealed class BruteForceTests_Sqlite(SqliteStores stores) : BruteForceTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class BruteForceTests_Postgres(PostgresStores stores) : BruteForceTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
