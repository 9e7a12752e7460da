using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Audit.Trail;
using Compliance.Jobs.Work;
using Compliance.Oidc.Staff;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Compliance.Server.Tests.PageElements;
using static Compliance.Server.Tests.Staff.StaffSignInSteps;

namespace Compliance.Server.Tests.Jobs;

/// <summary>
/// The job dashboard at <c>/staff/jobs</c> in the real host, on both stores: a staff administrator with a second factor
/// opens it and acts through it (each action recorded, none without the antiforgery token); nobody else gets anything of
/// it, on any of its paths: no session, a patient, a DPO, an administrator who gave only a password. The job store holds
/// the reconciler's recurring job, as on a node that runs jobs, so that a refused trigger could be seen to enqueue.
/// </summary>
public abstract class JobsDashboardTests<TStores> : IAsyncLifetime
    where TStores : StoreFixture
{
    private const string Dashboard = "/staff/jobs";

    // The host's policy, but for two exact inline styles admitted by hash: Chart.js's stylesheet and style="".
    private const string DashboardPolicy = "default-src 'self'; script-src 'self'; "
        + "style-src 'self' 'unsafe-hashes' 'sha256-z7zcnw/4WalZqx+PrNaRnoeLz/G9WXuFqV1WCJ129sg=' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; "
        + "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    // What only the dashboard's own answers contain: a refusal must show none of it.
    private static readonly string[] DashboardContent = ["hangfire", Reconciler.RecurringJobId, "Compliance jobs", "/staff/jobs/js"];

    // Sub-paths of every kind: pages, the statistics polled by the pages, scripts and styles, a job's details.
    private static readonly string[] Pages = [Dashboard, Dashboard + "/", Dashboard + "/recurring", Dashboard + "/servers", Dashboard + "/jobs/failed",
        Dashboard + "/jobs/details/1", Dashboard + "/js18250", Dashboard + "/css18250"];

    private readonly ComplianceFactory _factory;
    private readonly TStores _stores;

    protected JobsDashboardTests(TStores stores, IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _stores = stores;
        // Each test posts more forms than the per-address limit allows a minute; that limit has tests of its own.
        _factory = new ComplianceFactory(new Dictionary<string, string?>(stores.Settings.Concat(settings)) { ["Oidc:InteractiveRequestsPerMinute"] = "1000" });
    }

    public Task InitializeAsync()
    {
        // What the job server registers when a node runs jobs (test hosts run none, so that nothing here ever runs).
        _factory.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<Reconciler>(Reconciler.RecurringJobId, reconciler => reconciler.RunAsync(CancellationToken.None), Cron.Daily());
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    [Fact]
    public async Task Admin_WithSecondFactor_OpensTheDashboard_OnThisHostsJobStore()
    {
        using var admin = NewBrowser();
        await SignInAsync(admin, StaffRoles.Admin);

        var home = await admin.GetAsync(Dashboard);
        var recurring = await admin.GetAsync(Dashboard + "/recurring");

        home.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await home.Content.ReadAsStringAsync();
        page.ShouldContain("Compliance jobs");
        page.ShouldContain("/staff/jobs/js");
        page.ShouldContain("href=\"/staff\"", customMessage: "the way back is the staff home");
        page.ShouldNotContain(Storage().ToString()!, Case.Insensitive, "the job store's connection is not shown");
        home.Headers.CacheControl!.NoStore.ShouldBeTrue("jobs as they are now are never cached");
        home.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldBe(DashboardPolicy);
        recurring.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await recurring.Content.ReadAsStringAsync()).ShouldContain(Reconciler.RecurringJobId);
    }

    [Fact]
    public async Task Anonymous_IsSentToTheStaffSignIn_OnEveryPath_AndItsPostsDoNothing()
    {
        using var anonymous = NewBrowser();
        var (jobsBefore, rowsBefore) = (Jobs(), await ActionRowsAsync());

        foreach (var path in Pages)
        {
            var response = await anonymous.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, path);
            response.Headers.Location!.OriginalString.ShouldBe("/staff/login?return=" + Uri.EscapeDataString(path), path);
            await ShouldShowNothingOfTheDashboardAsync(response, path);
        }

        foreach (var (path, form) in Actions())
        {
            var response = await anonymous.PostFormAsync(path, form);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
            await ShouldShowNothingOfTheDashboardAsync(response, path);
        }

        Jobs().ShouldBe(jobsBefore, "no refused post enqueued or removed a job");
        (await ActionRowsAsync()).ShouldBe(rowsBefore);
    }

    [Fact]
    public async Task PatientSession_IsRefusedWith403_OnEveryPath_AndIsRecorded()
    {
        using var patient = NewBrowser();
        var pseudonym = "curious-" + Guid.NewGuid().ToString("N")[..8];
        await patient.SignUpAsync(pseudonym, "a long enough password");
        var jobsBefore = Jobs();

        foreach (var path in Pages)
        {
            var response = await patient.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
            var page = await ShouldShowNothingOfTheDashboardAsync(response, path);
            Text(page, "staff-refused").ShouldStartWith("Cette page est réservée à l'équipe du service.");
        }

        foreach (var (path, form) in Actions())
        {
            (await patient.PostFormAsync(path, form)).StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
        }

        Jobs().ShouldBe(jobsBefore, "no refused post enqueued or removed a job");
        var patientId = (await StoreSql.ScalarAsync(_stores.Compliance, $"SELECT id FROM accounts WHERE pseudonym = '{pseudonym}'"))!.ToString()!;
        var rows = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffPagePatientRefused.Id))
            .Where(r => string.Equals(r.SubjectId, patientId, StringComparison.OrdinalIgnoreCase)).ToList();
        rows.Count.ShouldBe(Pages.Length + Actions().Count);
        rows.ShouldAllBe(r => r.Details == """{"endpoint":"/staff/jobs/{**rest}"}""");
    }

    [Fact]
    public async Task Dpo_IsRefusedWith403_OnEveryPath_AndIsRecorded()
    {
        using var dpo = NewBrowser();
        var name = await SignInAsync(dpo, StaffRoles.Dpo);
        var token = PatientBrowser.Hidden(await (await dpo.GetAsync("/staff")).Content.ReadAsStringAsync(), "__RequestVerificationToken");
        var jobsBefore = Jobs();

        foreach (var path in Pages)
        {
            var response = await dpo.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
            var page = await ShouldShowNothingOfTheDashboardAsync(response, path);
            Text(page, "staff-denied").ShouldBe("Cette page est réservée à un autre rôle que le vôtre (délégué à la protection des données). Ce refus est enregistré.");
        }

        // Even with a valid antiforgery token of its own session.
        foreach (var (path, form) in Actions(token))
        {
            var response = await dpo.PostFormAsync(path, form);
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
            await ShouldShowNothingOfTheDashboardAsync(response, path);
        }

        Jobs().ShouldBe(jobsBefore, "no refused post enqueued or removed a job");
        var actor = await ActorOfAsync(name);
        var rows = (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.StaffAccessDenied.Id)).Where(r => r.Actor == actor).ToList();
        rows.Count.ShouldBe(Pages.Length + Actions().Count);
        rows.ShouldAllBe(r => r.Details == """{"role":"dpo","endpoint":"/staff/jobs/{**rest}"}""");
        (await ActionRowsAsync(actor)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Admin_WithThePasswordAlone_IsSentToTheSignIn_WhetherTheAppIsSetUpOrNot()
    {
        // No app yet: the password leads to the app's set-up, and no session.
        var jobsBefore = Jobs();
        using var newcomer = NewBrowser();
        var (newName, initial) = await AddAsync(_factory.Services, StaffRoles.Admin);
        (await PasswordStepAsync(newcomer, newName, initial)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // An app set up: the password leads to the code step, and no session until the code.
        using var earlier = NewBrowser();
        var (name, _, _) = await FirstSignInAsync(earlier, _factory.Services, StaffRoles.Admin, Now());
        using var halfway = NewBrowser();
        var codePage = await (await PasswordStepAsync(halfway, name, NewPassword)).Content.ReadAsStringAsync();
        Text(codePage, "second-factor-intro").ShouldStartWith("Mot de passe correct.");

        foreach (var browser in new[] { newcomer, halfway })
        {
            foreach (var path in Pages)
            {
                var response = await browser.GetAsync(path);
                response.StatusCode.ShouldBe(HttpStatusCode.Redirect, path);
                response.Headers.Location!.OriginalString.ShouldStartWith("/staff/login?return=", customMessage: path);
                await ShouldShowNothingOfTheDashboardAsync(response, path);
            }

            foreach (var (path, form) in Actions())
            {
                (await browser.PostFormAsync(path, form)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
            }
        }

        Jobs().ShouldBe(jobsBefore, "no refused post enqueued or removed a job");
    }

    [Fact]
    public async Task Admin_Action_NeedsTheDashboardsAntiforgeryToken_AndIsRecordedBeforeItRuns()
    {
        using var admin = NewBrowser();
        var name = await SignInAsync(admin, StaffRoles.Admin);
        var actor = await ActorOfAsync(name);
        var page = await (await admin.GetAsync(Dashboard + "/recurring")).Content.ReadAsStringAsync();
        var token = CsrfToken(page);
        token.ShouldNotBeEmpty();
        var jobsBefore = Jobs();

        var forged = await admin.PostFormAsync(Dashboard + "/recurring/trigger", new Dictionary<string, string> { ["jobs[]"] = Reconciler.RecurringJobId });
        var wrong = await admin.PostFormAsync(Dashboard + "/recurring/trigger", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token[..^4] + "AAAA", ["jobs[]"] = Reconciler.RecurringJobId,
        });

        forged.StatusCode.ShouldBe(HttpStatusCode.Forbidden, "antiforgery stays on");
        wrong.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        Jobs().ShouldBe(jobsBefore, "a refused post enqueued nothing");
        (await ActionRowsAsync(actor)).ShouldBeEmpty("a refused post asked nothing");

        var triggered = await admin.PostFormAsync(Dashboard + "/recurring/trigger", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["jobs[]"] = Reconciler.RecurringJobId,
        });

        triggered.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        Jobs().ShouldBe((jobsBefore.Enqueued + 1, jobsBefore.Recurring));
        var row = (await ActionRowsAsync(actor)).ShouldHaveSingleItem();
        row.SubjectId.ShouldBeNull();
        row.Details.ShouldBe("""{"action":"/recurring/trigger","jobs":1}""");
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
    }

    [Fact]
    public async Task Admin_Stats_AnswerWithTheToken_AndAreNotRecorded()
    {
        using var admin = NewBrowser();
        var actor = await ActorOfAsync(await SignInAsync(admin, StaffRoles.Admin));
        var token = CsrfToken(await (await admin.GetAsync(Dashboard)).Content.ReadAsStringAsync());

        var stats = await admin.PostFormAsync(Dashboard + "/stats", new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["metrics[]"] = "recurring:count" });

        stats.StatusCode.ShouldBe(HttpStatusCode.OK);
        stats.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        stats.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var json = await stats.Content.ReadAsStringAsync();
        JsonDocument.Parse(json).RootElement.GetProperty("recurring:count").GetProperty("value").GetString().ShouldBe("1", json);
        (await ActionRowsAsync(actor)).ShouldBeEmpty("polling is no action");
    }

    [Fact]
    public async Task StaffAdminPolicy_LoosenedToASessionWithoutSecondFactor_StillDoesNotOpenTheDashboard()
    {
        // A future staff session that passed a password only (amr pwd) and satisfies the administrators' policy.
        using var loosened = _factory.WithWebHostBuilder(host => host.ConfigureTestServices(services =>
        {
            services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderStaffScheme>(HeaderStaffScheme.Name, null);
            services.PostConfigure<AuthorizationOptions>(options => options.AddPolicy(StaffPolicies.Admin, policy => policy
                .AddAuthenticationSchemes(HeaderStaffScheme.Name).RequireAuthenticatedUser().RequireClaim("staff_role", StaffRoles.Admin)));
        }));
        using var client = loosened.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var passwordOnly = await SendAsync(client, "pwd");
        var twoFactors = await SendAsync(client, "pwd otp mfa");

        passwordOnly.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await ShouldShowNothingOfTheDashboardAsync(passwordOnly, Dashboard);
        twoFactors.StatusCode.ShouldBe(HttpStatusCode.OK, "the same policy with a second factor opens it: the refusal above is the second factor's");
        (await twoFactors.Content.ReadAsStringAsync()).ShouldContain("Compliance jobs");

        static async Task<HttpResponseMessage> SendAsync(HttpClient client, string amr)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Dashboard);
            request.Headers.Add(HeaderStaffScheme.AmrHeader, amr);
            return await client.SendAsync(request);
        }
    }

    /// <summary>Posts the dashboard's pages make: the statistics they poll, and actions on jobs.</summary>
    private static List<(string Path, Dictionary<string, string> Form)> Actions(string? token = null)
    {
        Dictionary<string, string> Form(params (string, string)[] fields) =>
            new(fields.Concat(token is null ? [] : [("__RequestVerificationToken", token)]).Select(f => KeyValuePair.Create(f.Item1, f.Item2)));

        return
        [
            (Dashboard + "/stats", Form(("metrics[]", "recurring:count"))),
            (Dashboard + "/recurring/trigger", Form(("jobs[]", Reconciler.RecurringJobId))),
            (Dashboard + "/recurring/remove", Form(("jobs[]", Reconciler.RecurringJobId))),
            (Dashboard + "/jobs/enqueued/delete", Form(("jobs[]", "1"))),
            (Dashboard + "/jobs/actions/requeue/1", Form()),
        ];
    }

    /// <summary>The antiforgery token a dashboard page gives its scripts, which send it in a header with each post.</summary>
    private static string CsrfToken(string page)
    {
        Meta(page, "csrf-header").ShouldBe("RequestVerificationToken");
        return Meta(page, "csrf-token");

        static string Meta(string page, string name) =>
            WebUtility.HtmlDecode(Regex.Match(page, $"<meta name=\"{name}\" content=\"([^\"]*)\"").Groups[1].Value);
    }

    /// <summary>The body of a refusal holds nothing the dashboard shows, and carries a policy of the host's, not the dashboard's.</summary>
    private static async Task<string> ShouldShowNothingOfTheDashboardAsync(HttpResponseMessage response, string path)
    {
        var body = await response.Content.ReadAsStringAsync();
        foreach (var content in DashboardContent)
        {
            body.ShouldNotContain(content, Case.Insensitive, $"{path} answered {(int)response.StatusCode}");
        }

        var policy = response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem();
        policy.ShouldNotBe(DashboardPolicy, path);
        policy.ShouldNotContain("'unsafe", Case.Sensitive, path);
        return body;
    }

    /// <summary>How many jobs wait in the job store, and how many recurring jobs it holds.</summary>
    private (long Enqueued, long Recurring) Jobs()
    {
        var statistics = Storage().GetMonitoringApi().GetStatistics();
        return (statistics.Enqueued, statistics.Recurring);
    }

    private async Task<List<AuditRow>> ActionRowsAsync(string? actor = null) =>
        [.. (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.JobsDashboardAction.Id)).Where(r => actor is null || r.Actor == actor)];

    private JobStorage Storage() => _factory.Services.GetRequiredService<JobStorage>();

    private async Task<string> SignInAsync(PatientBrowser browser, string role) =>
        (await FirstSignInAsync(browser, _factory.Services, role, Now())).Name;

    private DateTimeOffset Now() => _factory.Services.GetRequiredService<TimeProvider>().GetUtcNow();

    private async Task<string> ActorOfAsync(string name) =>
        "staff:" + (await StoreSql.ScalarAsync(_stores.Compliance, $"SELECT id FROM staff_accounts WHERE user_name = '{name}'"))!.ToString()!.ToLowerInvariant();

    private PatientBrowser NewBrowser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));

    /// <summary>A stand-in staff cookie: an administrator whose <c>amr</c> is the request's header.</summary>
    private sealed class HeaderStaffScheme(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "Test.LooseStaff";
        public const string AmrHeader = "X-Test-Amr";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(AmrHeader, out var amr))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity(
                [new Claim("sub", Guid.NewGuid().ToString("D")), new Claim("staff_role", StaffRoles.Admin), new Claim("amr", amr.ToString())], Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
        }
    }
}

public sealed class JobsDashboardTests_Sqlite(SqliteStores stores)
    : JobsDashboardTests<SqliteStores>(stores, new Dictionary<string, string?>()), IClassFixture<SqliteStores>;

// On PostgreSQL the job store is Hangfire.PostgreSql; the node installs its schema at start, as `compliance migrate` would.
public sealed class JobsDashboardTests_Postgres(PostgresStores stores)
    : JobsDashboardTests<PostgresStores>(stores, new Dictionary<string, string?> { ["Storage:MigrateOnStart"] = "true" }), IClassFixture<PostgresStores>;
