using System.Net;
using System.Text.RegularExpressions;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Jobs.Notices;
using Compliance.Jobs.Work;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// "My notifications" through the real host, as a patient reads it in French and English: delivered notices only,
/// unread first then newest, worded from their facts; marking one read (antiforgery, post-redirect-get) moves it down;
/// another patient's notice, a forged form or a hostile id is refused with a readable 400 or 404, never a 500, and
/// changes nothing.
/// </summary>
public abstract partial class NoticesPageTests<TStores> : IDisposable
    where TStores : StoreFixture
{
    private const string Password = "a long enough password";
    private const string DeliveryKind = "notice.delivery";
    private const string Path = "/account/notices";
    private const string ReadPath = "/account/notices/read";
    private readonly TStores _stores;
    private readonly TestClock _clock = new(DateTimeOffset.UtcNow);
    private readonly ComplianceFactory _root;
    private readonly WebApplicationFactory<Program> _factory;

    protected NoticesPageTests(TStores stores)
    {
        _stores = stores;
        _root = new ComplianceFactory(HostSettings(stores));
        _factory = _root.WithWebHostBuilder(host => host.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_clock))));
    }

    public void Dispose()
    {
        _factory.Dispose();
        _root.Dispose();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("en")]
    public async Task Notices_InEachLanguage_AreUnreadFirstThenNewest_AndWordedFromTheirFacts(string language)
    {
        var fr = language == "fr";
        var clientId = await RegisterAsync("<b>Téléconsultation</b> & Co");
        using var patient = NewBrowser(language);
        var account = await SignUpAsync(patient);
        var request = Guid.CreateVersion7();
        var erased = await DeliveredAsync(account, NoticeFacts.PartnerErasure(clientId, new DateTimeOffset(2030, 3, 2, 10, 0, 0, TimeSpan.Zero)));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var received = await DeliveredAsync(account, NoticeFacts.RequestReceived(request, new DateTimeOffset(2030, 4, 1, 12, 0, 0, TimeSpan.Zero)));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var emergency = await DeliveredAsync(account, NoticeFacts.BreakGlassAccess("no-such-partner", new DateTimeOffset(2030, 3, 1, 14, 5, 0, TimeSpan.Zero)));
        var extended = await PostAsync(account, NoticeFacts.RequestExtended(request, new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero)), _clock.GetUtcNow().AddDays(3));
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<INotices>().MarkReadAsync(account, received, CancellationToken.None)).ShouldBeTrue();
        }

        var html = await PageAsync(patient);

        Attribute(html, "html", "lang").ShouldBe(language);
        Heading(html).ShouldBe(fr ? "Mes notifications" : "My notifications");
        Text(html, "nav-notices").ShouldBe(fr ? "Notifications (2 non lues)" : "Notifications (2 unread)");
        NoticeIds(html).ShouldBe([emergency, erased, received]);
        html.ShouldNotContain(extended.ToString("D"), customMessage: "scheduled for later: not delivered, not shown");

        Text(html, $"notice-{emergency}-title").ShouldBe(fr ? "Accès d'urgence à votre identité" : "Emergency access to your identity");
        Text(html, $"notice-{emergency}-text").ShouldBe(fr
            ? "Le 2030-03-01 14:05 (UTC), un professionnel de santé habilité de no-such-partner a consulté votre identité civile en urgence (accès « bris de glace »). Cet accès est justifié et tracé."
            : "On 2030-03-01 14:05 (UTC), an authorised health professional of no-such-partner viewed your civil identity in an emergency (\"break-glass\" access). This access is justified and recorded.");
        Text(html, $"notice-{emergency}-state").ShouldEndWith(fr ? " · Non lue" : " · Unread");
        Tag(html, $"read-{emergency}").ShouldContain("type=\"submit\"");

        Text(html, $"notice-{erased}-title").ShouldBe(fr ? "Données effacées par un partenaire" : "Data erased by a partner");
        Text(html, $"notice-{erased}-text").ShouldBe(fr
            ? "Le 2 mars 2030, <b>Téléconsultation</b> & Co a confirmé avoir effacé les données vous concernant qu'il détenait."
            : "On 2 March 2030, <b>Téléconsultation</b> & Co confirmed it erased the data it held about you.");
        html.ShouldNotContain("<b>Téléconsultation</b>", customMessage: "the partner's display name is text, never markup");

        Text(html, $"notice-{received}-title").ShouldBe(fr ? "Demande reçue" : "Request received");
        Text(html, $"notice-{received}-text").ShouldBe(fr
            ? $"Votre demande (référence {request:D}) a bien été reçue. Vous recevrez une réponse au plus tard le 1er avril 2030."
            : $"Your request (reference {request:D}) has been received. You will get an answer by 1 April 2030 at the latest.");
        Text(html, $"notice-{received}-state").ShouldEndWith(fr ? " · Lue" : " · Read");
        html.ShouldNotContain($"id=\"read-{received}\"", customMessage: "a read notice has nothing left to mark");
    }

    [Fact]
    public async Task ScheduledNotice_IsAbsentUntilDelivered_ThenListedAndCounted()
    {
        using var patient = NewBrowser("fr");
        var account = await SignUpAsync(patient);
        var scheduled = await PostAsync(account, NoticeFacts.RequestCompleted(Guid.CreateVersion7(), new DateTimeOffset(2030, 5, 4, 8, 0, 0, TimeSpan.Zero)), _clock.GetUtcNow().AddMinutes(10));

        var before = await PageAsync(patient);
        Text(before, "no-notices").ShouldBe("Aucune notification pour le moment.");
        Text(before, "nav-notices").ShouldBe("Notifications");
        await DeliverAsync(scheduled); // a job that runs early delivers nothing
        Text(await PageAsync(patient), "no-notices").ShouldBe("Aucune notification pour le moment.");

        _clock.Advance(TimeSpan.FromMinutes(10));
        await DeliverAsync(scheduled);

        var after = await PageAsync(patient);
        NoticeIds(after).ShouldBe([scheduled]);
        Text(after, $"notice-{scheduled}-text").ShouldEndWith("a été traitée le 4 mai 2030.");
        Text(after, "nav-notices").ShouldBe("Notifications (1 non lue)");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.NoticeDelivered.Id, scheduled.ToString("D"))).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task MarkRead_ThroughTheForm_RedirectsBack_AndMovesTheNoticeBelowTheUnread()
    {
        using var patient = NewBrowser("en");
        var account = await SignUpAsync(patient);
        var older = await DeliveredAsync(account, NoticeFacts.RequestReceived(Guid.CreateVersion7(), new DateTimeOffset(2030, 4, 1, 0, 0, 0, TimeSpan.Zero)));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var newer = await DeliveredAsync(account, NoticeFacts.RequestCompleted(Guid.CreateVersion7(), new DateTimeOffset(2030, 4, 2, 0, 0, 0, TimeSpan.Zero)));
        var page = await PageAsync(patient);
        NoticeIds(page).ShouldBe([newer, older]);

        var marked = await patient.PostFormAsync(ReadPath, Form(page, newer.ToString("D")));

        marked.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        marked.Headers.Location!.OriginalString.ShouldBe("/account/notices");
        var after = await PageAsync(patient);
        NoticeIds(after).ShouldBe([older, newer]);
        Text(after, $"notice-{newer}-state").ShouldEndWith(" · Read");
        Text(after, "nav-notices").ShouldBe("Notifications (1 unread)");
    }

    [Fact]
    public async Task MarkRead_AnotherPatientsNotice_IsA404_AndChangesNothing()
    {
        using var owner = NewBrowser("fr");
        var ownerAccount = await SignUpAsync(owner);
        var theirs = await DeliveredAsync(ownerAccount, NoticeFacts.BreakGlassAccess(null, _clock.GetUtcNow()));
        using var intruder = NewBrowser("fr");
        var own = await DeliveredAsync(await SignUpAsync(intruder), NoticeFacts.BreakGlassAccess(null, _clock.GetUtcNow()));
        var intruderPage = await PageAsync(intruder); // a real form of theirs, with their token, aimed at another id

        var refused = await intruder.PostFormAsync(ReadPath, Form(intruderPage, theirs.ToString("D")));

        refused.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        Text(await PageAsync(intruder), $"notice-{own}-state").ShouldEndWith(" · Non lue");
        var html = await refused.Content.ReadAsStringAsync();
        Text(html, "notice-not-found").ShouldBe("Cette notification n'existe pas dans votre espace. Rien n'a changé.");
        html.ShouldNotContain(theirs.ToString("D"));
        var ownerPage = await PageAsync(owner);
        Text(ownerPage, $"notice-{theirs}-state").ShouldEndWith(" · Non lue");
        Text(ownerPage, $"notice-{theirs}-text").ShouldStartWith("Le ");
        Text(ownerPage, $"notice-{theirs}-text").ShouldContain("un professionnel de santé habilité a consulté", customMessage: "no partner named: the unnamed sentence");
    }

    [Fact]
    public async Task MarkRead_WithoutItsAntiforgeryToken_IsRefused_AndChangesNothing()
    {
        using var patient = NewBrowser("fr");
        var account = await SignUpAsync(patient);
        var id = await DeliveredAsync(account, NoticeFacts.RequestReceived(Guid.CreateVersion7(), _clock.GetUtcNow().AddMonths(1)));

        var missing = await patient.PostFormAsync(ReadPath, new Dictionary<string, string> { ["notice"] = id.ToString("D") });
        var forged = await patient.PostFormAsync(ReadPath, new Dictionary<string, string> { ["notice"] = id.ToString("D"), ["__RequestVerificationToken"] = "forged" });

        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        forged.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Text(await PageAsync(patient), $"notice-{id}-state").ShouldEndWith(" · Non lue");
    }

    [Fact]
    public async Task MarkRead_HostileOrMalformedIds_AreA400OrA404_NeverA500_AndNeverEchoed()
    {
        using var patient = NewBrowser("en");
        var account = await SignUpAsync(patient);
        var id = await DeliveredAsync(account, NoticeFacts.RequestReceived(Guid.CreateVersion7(), _clock.GetUtcNow().AddMonths(1)));
        var page = await PageAsync(patient);
        (string Value, HttpStatusCode Status)[] cases =
        [
            ("", HttpStatusCode.BadRequest),
            ("not-a-guid", HttpStatusCode.BadRequest),
            ("' OR 1=1 --", HttpStatusCode.BadRequest),
            ("<script>alert(1)</script>", HttpStatusCode.BadRequest),
            (id.ToString("N"), HttpStatusCode.BadRequest),
            (id.ToString("D") + "' OR '1'='1", HttpStatusCode.BadRequest),
            (new string('a', 20_000), HttpStatusCode.BadRequest),
            (Guid.Empty.ToString("D"), HttpStatusCode.NotFound),
            (Guid.CreateVersion7().ToString("D"), HttpStatusCode.NotFound),
        ];

        foreach (var (value, status) in cases)
        {
            var answer = await patient.PostFormAsync(ReadPath, Form(page, value));
            answer.StatusCode.ShouldBe(status, value.Length > 60 ? value[..60] : value);
            var body = await answer.Content.ReadAsStringAsync();
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            if (value.Length > 0)
            {
                body.ShouldNotContain(value, customMessage: "a refusal never echoes the request");
            }
        }

        var twice = await patient.PostAsync(ReadPath,
            new FormUrlEncodedContent([new("__RequestVerificationToken", PatientBrowser.Hidden(page, "__RequestVerificationToken")), new("notice", id.ToString("D")), new("notice", id.ToString("D"))]));
        twice.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "one notice per form");
        (await patient.PostFormAsync(ReadPath + "/" + id.ToString("D"), Form(page, id.ToString("D")))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await patient.GetAsync(ReadPath)).StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        Text(await PageAsync(patient), $"notice-{id}-state").ShouldEndWith(" · Unread", customMessage: "nothing above changed it");
    }

    [Fact]
    public async Task NoticesPage_SignedOut_LeadsToSignInAndBack()
    {
        using var browser = NewBrowser("fr");

        var answer = await browser.GetAsync(Path);

        answer.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        answer.Headers.Location!.OriginalString.ShouldBe("/account/login?return=%2Faccount%2Fnotices");
    }

    [Fact]
    public async Task PostedNow_OnANodeThatRunsJobs_IsDeliveredByTheJob()
    {
        using var root = new ComplianceFactory(new Dictionary<string, string?>(HostSettings(_stores)) { ["Jobs:Server"] = "true" });
        using var patient = new PatientBrowser(root.Server.CreateHandler(), new Uri("http://localhost")) { Language = "fr" };
        await patient.SignUpAsync("jobs-" + Guid.NewGuid().ToString("N")[..8], Password);
        var account = await AccountIdAsync(root, patient);
        Guid id;
        await using (var scope = root.Services.CreateAsyncScope())
        {
            id = await scope.ServiceProvider.GetRequiredService<INotices>().PostAsync(account, NoticeFacts.BreakGlassAccess(null, DateTimeOffset.UtcNow), null, CancellationToken.None);
        }

        // Hangfire's worker picks the job up within its polling interval; the page is read until it shows the notice.
        var shown = false;
        for (var attempt = 0; attempt < 100 && !shown; attempt++)
        {
            var html = await (await patient.GetAsync(Path)).Content.ReadAsStringAsync();
            shown = html.Contains($"id=\"notice-{id:D}\"", StringComparison.Ordinal);
            if (!shown)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }

        shown.ShouldBeTrue("the delivery job ran on this node's job server");
        (await AuditRows.ReadAsync(_stores.Compliance, AuditEventTypes.NoticeDelivered.Id, id.ToString("D"))).ShouldHaveSingleItem();
    }

    // PostgreSQL test databases have no job schema: this host installs it at start, as `compliance migrate --store jobs` would.
    private static Dictionary<string, string?> HostSettings(TStores stores)
    {
        var settings = new Dictionary<string, string?>(stores.Settings);
        if (stores.Provider == DatabaseProvider.PostgreSQL)
        {
            settings["Storage:MigrateOnStart"] = "true";
        }

        return settings;
    }

    private PatientBrowser NewBrowser(string language) => new(_factory.Server.CreateHandler(), new Uri("http://localhost")) { Language = language };

    private async Task<Guid> SignUpAsync(PatientBrowser patient)
    {
        (await patient.SignUpAsync("notices-" + Guid.NewGuid().ToString("N")[..8], Password)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return await AccountIdAsync(_factory, patient);
    }

    private static async Task<Guid> AccountIdAsync(WebApplicationFactory<Program> factory, PatientBrowser patient)
    {
        var pseudonym = Text(await (await patient.GetAsync("/account")).Content.ReadAsStringAsync(), "signed-in-pseudonym");
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<Account>>().FindByNameAsync(pseudonym)).ShouldNotBeNull().Id;
    }

    private async Task<string> RegisterAsync(string displayName)
    {
        var clientId = "notices-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, displayName, ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [], ["openid"], ["authorization_code"]),
            CancellationToken.None);
        return clientId;
    }

    private async Task<Guid> PostAsync(Guid account, NoticeFacts facts, DateTimeOffset? deliverAt = null)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<INotices>().PostAsync(account, facts, deliverAt, CancellationToken.None);
    }

    // This host runs no job server: the test runs the job itself, as a worker would.
    private async Task DeliverAsync(Guid id)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DueWorkJob>().RunAsync(DeliveryKind, id, CancellationToken.None);
    }

    private async Task<Guid> DeliveredAsync(Guid account, NoticeFacts facts)
    {
        var id = await PostAsync(account, facts);
        await DeliverAsync(id);
        return id;
    }

    private static async Task<string> PageAsync(PatientBrowser patient)
    {
        var answer = await patient.GetAsync(Path);
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await answer.Content.ReadAsStringAsync();
    }

    private static Dictionary<string, string> Form(string page, string notice) => new()
    {
        ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
        ["notice"] = notice,
    };

    /// <summary>The notices of the page, in the order the patient reads them.</summary>
    private static List<Guid> NoticeIds(string html) =>
        [.. NoticeItem().Matches(html).Select(m => Guid.Parse(m.Groups[1].Value))];

    [GeneratedRegex("<li id=\"notice-([0-9a-f-]{36})\"")]
    private static partial Regex NoticeItem();
}

public sealed class NoticesPageTests_Sqlite(SqliteStores stores) : NoticesPageTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class NoticesPageTests_Postgres(PostgresStores stores) : NoticesPageTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
