using AngleSharp.Html.Parser;
using Compliance.Jobs.Work;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Server.Tests.Consent;

/// <summary>
/// The lifecycle job's Expired event through the real host: once the job has recorded that the newsletter consent
/// lapsed, a silent authorization for its scope gets <c>consent_required</c>, "My authorisations" shows it expired, the
/// next authorization shows the consent screen again, and the yes there is a renewal that grants the scope again.
/// The job runs with the clock past the three years of validity, the requests before and after it at the same time,
/// so that only the job's event can make the difference.
/// </summary>
public abstract class ConsentLifecycleFlowTests<TStores> : IDisposable
    where TStores : StoreFixture
{
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private readonly MovableClock _clock;
    private readonly ComplianceFactory _root;
    private readonly WebApplicationFactory<Program> _factory;

    protected ConsentLifecycleFlowTests(TStores stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        _clock = new MovableClock(_start);
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
    public async Task ExpiredByTheJob_SilentRequestNeedsConsent_TheScreenAsksAgain_AndTheYesIsARenewal()
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(_factory.Services, "lapse-");
        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid newsletter", null);
        (await PurposeConsentSteps.DecideAsync(patient, html, "allow", new() { ["purpose:newsletter"] = "yes" }))
            .Headers.Location!.OriginalString.ShouldContain("code=");
        (await SilentAsync(patient, clientId)).ShouldContain("code=", Case.Sensitive, "the consent stands before the job");

        _clock.Now = _start.AddYears(3).AddDays(2);
        await RunLifecycleAsync();
        _clock.Now = _start.AddMinutes(1);

        (await SilentAsync(patient, clientId)).ShouldContain("error=consent_required");
        (await StateShownAsync(patient, clientId)).ShouldBe("Expired");
        var asked = await patient.GetAsync(PurposeConsentSteps.Authorize(clientId, "openid newsletter"));
        asked.Headers.Location!.OriginalString.ShouldContain("/connect/consent?interaction=");
        var again = await (await patient.FollowAsync(asked)).Content.ReadAsStringAsync();
        (await PurposeConsentSteps.DecideAsync(patient, again, "allow", new() { ["purpose:newsletter"] = "yes" }))
            .Headers.Location!.OriginalString.ShouldContain("code=");
        (await StateShownAsync(patient, clientId)).ShouldBe("RenewedGiven");
        (await SilentAsync(patient, clientId)).ShouldContain("code=");
    }

    private static async Task<string> SilentAsync(PatientBrowser patient, string clientId) =>
        (await patient.GetAsync(PurposeConsentSteps.Authorize(clientId, "openid newsletter", "&prompt=none"))).Headers.Location!.OriginalString;

    private static async Task<string?> StateShownAsync(PatientBrowser patient, string clientId) =>
        new HtmlParser().ParseDocument(await (await patient.GetAsync("/account")).Content.ReadAsStringAsync())
            .QuerySelector($"#consent-{clientId}-newsletter")?.GetAttribute("data-state");

    /// <summary>One run of the recurring job, as Hangfire would start it (test hosts run no job server).</summary>
    private async Task RunLifecycleAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetServices<IRecurringWork>().Single(w => w.Id == "consent.lifecycle").RunAsync(CancellationToken.None);
    }

    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

public sealed class ConsentLifecycleFlowTests_Sqlite(SqliteStores stores) : ConsentLifecycleFlowTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ConsentLifecycleFlowTests_Postgres(PostgresStores stores) : ConsentLifecycleFlowTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
