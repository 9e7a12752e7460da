using AngleSharp.Html.Parser;
using Compliance.Consent.Receipts;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;

namespace Compliance.Server.Tests.Consent;

/// <summary>
/// The consent ledger through the real server: a decision on the consent screen becomes events, "My authorisations"
/// shows each purpose with one button to withdraw it and a receipt per event, the receipt verifies with nothing but
/// /ledger/keys, and a withdrawn purpose's scope is no longer granted.
/// </summary>
public abstract class LedgerFlowTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ConsentScreen_ThenAccount_ShowsEachPurpose_ReceiptsVerifyOffline_AndAWithdrawalStopsTheScope()
    {
        var clientId = await PurposeConsentSteps.RegisterAsync(_factory.Services, "ledger-");
        using var patient = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, clientId, "openid research newsletter", null);

        var decided = await PurposeConsentSteps.DecideAsync(patient, html, "allow", new() { ["purpose:research"] = "yes" });
        decided.Headers.Location!.OriginalString.ShouldStartWith($"https://{clientId}.example/cb?code=");

        var account = new HtmlParser().ParseDocument(await (await patient.GetAsync("/account")).Content.ReadAsStringAsync());
        account.QuerySelector($"#consent-{clientId}-research")!.GetAttribute("data-state").ShouldBe("Given");
        account.QuerySelector($"#consent-{clientId}-newsletter")!.GetAttribute("data-state").ShouldBe("Refused");
        account.QuerySelector($"#withdraw-consent-{clientId}-research").ShouldNotBeNull();
        account.QuerySelector($"#withdraw-consent-{clientId}-newsletter").ShouldBeNull("a refusal has nothing to withdraw");
        var receipts = account.QuerySelectorAll("a.receipt").Select(a => a.GetAttribute("href")!).ToList();
        receipts.Count.ShouldBe(2);

        // Each receipt checks out with the published keys alone (fetched after the receipts: the first checkpoint,
        // signed on demand for them, made the first attestation key).
        var downloads = new List<byte[]>();
        foreach (var href in receipts)
        {
            var download = await patient.GetAsync(href);
            download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
            downloads.Add(await download.Content.ReadAsByteArrayAsync());
        }

        using var anonymous = _factory.CreateClient();
        var keys = await anonymous.GetStringAsync("/ledger/keys");
        var states = new List<string>();
        foreach (var receipt in downloads)
        {
            var check = ReceiptVerifier.Verify(receipt, keys);
            check.Valid.ShouldBeTrue(check.Refusal);
            check.Record!.Controller.Name.ShouldBe("Clinique Exemple SAS");
            check.Record.Method.ShouldBe("consent-screen");
            states.Add(check.Record.StateName);
        }

        states.Order().ShouldBe(["Given", "Refused"]);

        // Another patient cannot fetch them.
        using var stranger = Browser();
        await stranger.SignUpAsync("ledger-" + Guid.NewGuid().ToString("N")[..8], PurposeConsentSteps.Password);
        ((int)(await stranger.GetAsync(receipts[0])).StatusCode).ShouldBe(404);

        // Withdraw research, in one action: the next silent request for it needs consent again.
        var withdraw = await patient.PostFormAsync("/account/consents/withdraw", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(account.DocumentElement.OuterHtml, "__RequestVerificationToken"),
            ["client_id"] = clientId,
            ["purpose_id"] = "research",
        });
        ((int)withdraw.StatusCode).ShouldBe(302);
        account = new HtmlParser().ParseDocument(await (await patient.GetAsync("/account")).Content.ReadAsStringAsync());
        account.QuerySelector($"#consent-{clientId}-research")!.GetAttribute("data-state").ShouldBe("Withdrawn");
        account.QuerySelectorAll("a.receipt").Length.ShouldBe(3);

        var silent = await patient.GetAsync(PurposeConsentSteps.Authorize(clientId, "openid research", "&prompt=none"));
        silent.Headers.Location!.OriginalString.ShouldContain("error=consent_required");
        var openidOnly = await patient.GetAsync(PurposeConsentSteps.Authorize(clientId, "openid", "&prompt=none"));
        openidOnly.Headers.Location!.OriginalString.ShouldContain("code=", Case.Sensitive, "the partner keeps what does not rest on the withdrawn purpose");
    }

    [Theory]
    [InlineData("/ledger/proofs/inclusion?leaf_index=-1&tree_size=1", 400)]
    [InlineData("/ledger/proofs/inclusion?leaf_index=abc&tree_size=1", 400)]
    [InlineData("/ledger/proofs/inclusion?leaf_index=0&tree_size=99999999999", 404)]
    [InlineData("/ledger/proofs/consistency?first=0&second=1", 400)]
    [InlineData("/ledger/proofs/consistency?first=5&second=2", 404)]
    [InlineData("/ledger/checkpoints?after=%00", 400)]
    public async Task LedgerEndpoints_HostileParameters_GetAProblemWithAStableCode(string url, int status)
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync(url);

        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync()).ShouldContain("\"code\":");
    }

    [Fact]
    public async Task Verification_IsForStaff_NotForAnonymousCallers()
    {
        using var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.PostAsync("/ledger/verification", null);

        ((int)response.StatusCode).ShouldBeOneOf(302, 401, 403);
    }

    private PatientBrowser Browser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));
}

public sealed class LedgerFlowTests_Sqlite(SqliteStores stores) : LedgerFlowTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerFlowTests_Postgres(PostgresStores stores) : LedgerFlowTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
