using System.Collections.Concurrent;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// The per-purpose consent screen, through the real server: the partner as controller, each purpose with its notice
/// version in French and English, boxes never ticked, and the decision recorded per purpose with the version shown.
/// </summary>
public abstract class PurposeConsentTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ConcurrentQueue<ConsentDecision> _decisions = new();
    private ComplianceFactory? _root;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>? _factory;

    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Factory
    {
        get
        {
            if (_factory is null)
            {
                _root = new ComplianceFactory(stores.Settings);

                // Observes the record the screen builds, then lets the real implementation keep it.
                _factory = _root.WithWebHostBuilder(host => host.ConfigureTestServices(services =>
                {
                    var inner = services.Last(d => d.ServiceType == typeof(IConsentDecisions));
                    services.Remove(inner);
                    services.AddScoped<IConsentDecisions>(provider =>
                        new RecordingDecisions((IConsentDecisions)ActivatorUtilities.CreateInstance(provider, inner.ImplementationType!), _decisions));
                }));
            }

            return _factory;
        }
    }

    public void Dispose()
    {
        _factory?.Dispose();
        _root?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData("fr", "Recherche en santé", "version 2025-09", "3 ans", "Clinique Exemple SAS est responsable du traitement de ce qu'il reçoit.")]
    [InlineData("en", "Health research", "version 2025-09", "3 years", "Clinique Exemple SAS is the controller of what it receives.")]
    public async Task ConsentPage_ConsentScopes_ShowEachPurposeWithItsNoticeAndTheControllersWithNothingTicked(
        string language, string researchName, string version, string validity, string controllerLine)
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(Factory.Services, "purposes-");
        using var patient = Browser();

        var page = Parse(await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research newsletter", language));

        page.QuerySelector("#partner-controller")!.TextContent.ShouldContain(controllerLine);
        page.QuerySelector("#partner-dpo")!.GetAttribute("href").ShouldBe("mailto:dpo@clinique.example");
        page.QuerySelector("#partner-notice")!.GetAttribute("href").ShouldBe("https://clinique.example/privacy");
        var operatorName = Factory.Services.GetRequiredService<PolicySet>().Controller.Name;
        page.QuerySelector("#account-controller")!.TextContent.ShouldContain(operatorName);
        var research = page.QuerySelector("#purpose-research")!;
        research.QuerySelector("h2")!.TextContent.ShouldBe(researchName);
        var notice = research.QuerySelector("a.notice-link")!;
        notice.TextContent.ShouldContain(version);
        notice.GetAttribute("href").ShouldBe($"https://teleconsultation.example/notices/research/2025-09/{language}");
        research.QuerySelector(".legal-basis")!.TextContent.ShouldContain(language == "fr" ? "votre consentement" : "your consent");
        research.QuerySelector(".categories")!.TextContent.ShouldContain(language == "fr" ? "Extraits pseudonymisés" : "Pseudonymised research extracts");
        page.QuerySelector("#purpose-newsletter .validity")!.TextContent.ShouldContain(validity);
        page.QuerySelector("#purpose-newsletter a.notice-link")!.GetAttribute("href").ShouldBe($"https://teleconsultation.example/notices/newsletter/2025-09/{language}");
        var boxes = page.QuerySelectorAll("input[type=checkbox]");
        boxes.Select(b => b.GetAttribute("name")).ShouldBe(["purpose:research", "purpose:newsletter"]);
        boxes.ShouldAllBe(b => !b.HasAttribute("checked"));
        page.QuerySelector("#purpose-identity-release").ShouldBeNull("identity was not requested");
    }

    [Fact]
    public async Task Allow_OnePurposeTicked_GrantsItsScopeOnlyAndRecordsEachChoiceWithTheVersionShown()
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(Factory.Services, "purposes-");
        using var patient = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research newsletter", "en");

        var response = await PurposeConsentSteps.DecideAsync(patient, html, "allow", new() { ["purpose:research"] = "yes" });

        response.Headers.Location!.OriginalString.ShouldStartWith($"https://{clientId}.example/cb?code=");
        var decision = _decisions.ShouldHaveSingleItem();
        decision.Allowed.ShouldBeTrue();
        decision.Language.ShouldBe("en");
        decision.Scopes.ShouldBe(["openid", "research"]);
        decision.Purposes.ShouldBe([new ConsentDecision.PurposeChoice("research", "2025-09", true), new ConsentDecision.PurposeChoice("newsletter", "2025-09", false)]);
        (await GrantedScopesAsync(clientId)).ShouldBe("openid research");
    }

    [Fact]
    public async Task Deny_EveryPurposeShown_IsRefusedAndNothingIsGranted()
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(Factory.Services, "purposes-");
        using var patient = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research newsletter", "fr");

        var response = await PurposeConsentSteps.DecideAsync(patient, html, "deny", new() { ["purpose:research"] = "yes" });

        response.Headers.Location!.OriginalString.ShouldContain("error=access_denied");
        var decision = _decisions.ShouldHaveSingleItem();
        decision.Allowed.ShouldBeFalse();
        decision.Purposes.ShouldBe([new ConsentDecision.PurposeChoice("research", "2025-09", false), new ConsentDecision.PurposeChoice("newsletter", "2025-09", false)]);
        (await GrantedScopesAsync(clientId)).ShouldBeNull();
    }

    [Theory]
    [InlineData("purpose:unknown")]
    [InlineData("purpose:identity-release")]
    [InlineData("purpose:care")]
    public async Task Allow_PurposeFieldThatWasNotShown_IsRefusedWithTheFormErrorAndRecordsNothing(string field)
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(Factory.Services, "purposes-");
        using var patient = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research", "en");

        var response = await PurposeConsentSteps.DecideAsync(patient, html, "allow", new() { ["purpose:research"] = "yes", [field] = "yes" });

        ((int)response.StatusCode).ShouldBe(400);
        (await response.Content.ReadAsStringAsync()).ShouldContain("The form has expired or is not valid.");
        _decisions.ShouldBeEmpty();
        (await GrantedScopesAsync(clientId)).ShouldBeNull();
    }

    [Fact]
    public async Task Allow_NoticeVersionOtherThanTheCurrentOne_AsksToReviewAgainAndRecordsNothing()
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(Factory.Services, "purposes-");
        using var patient = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research", "en");

        var response = await PurposeConsentSteps.DecideAsync(patient, html, "allow", new() { ["purpose:research"] = "yes", ["notice:research"] = "2024-01" });

        ((int)response.StatusCode).ShouldBe(400);
        (await response.Content.ReadAsStringAsync()).ShouldContain("The notice changed, please review again");
        _decisions.ShouldBeEmpty();
    }

    [Fact]
    public async Task Discovery_ScopesSupported_ListsThePolicyScopes()
    {
        using var client = Factory.CreateClient();

        var json = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/.well-known/openid-configuration"));

        json.RootElement.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString())
            .ShouldBe(["identity", "newsletter", "offline_access", "openid", "research"]);
    }

    private PatientBrowser Browser() => new(Factory.Server.CreateHandler(), new Uri("http://localhost"));

    private static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    private async Task<string?> GrantedScopesAsync(string clientId)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        return await db.Set<ConsentGrant>().AsNoTracking().Where(g => g.ClientId == clientId).Select(g => g.Scopes).SingleOrDefaultAsync();
    }

    private sealed class RecordingDecisions(IConsentDecisions inner, ConcurrentQueue<ConsentDecision> recorded) : IConsentDecisions
    {
        public Task RecordAsync(ConsentDecision decision, CancellationToken cancellationToken)
        {
            recorded.Enqueue(decision);
            return inner.RecordAsync(decision, cancellationToken);
        }

        public Task<IReadOnlySet<string>> AllowedScopesAsync(Guid subjectId, string clientId, CancellationToken cancellationToken) =>
            inner.AllowedScopesAsync(subjectId, clientId, cancellationToken);
    }
}

public sealed class PurposeConsentTests_Sqlite(SqliteStores stores) : PurposeConsentTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PurposeConsentTests_Postgres(PostgresStores stores) : PurposeConsentTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
