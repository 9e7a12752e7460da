using AngleSharp.Html.Parser;
using Compliance.Consent.Receipts;
using Compliance.Oidc.Clients;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Consent;

/// <summary>
/// The consent ledger through the real server: a decision on the consent screen becomes events, "My authorisations"
/// shows each purpose with one button to withdraw it and a receipt per event, the receipt verifies with nothing but
/// /ledger/keys, and a withdrawn purpose's scope is no longer granted.
/// </summary>
public abstract class LedgerFlowTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Password = "a long enough password";
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ConsentScreen_ThenAccount_ShowsEachPurpose_ReceiptsVerifyOffline_AndAWithdrawalStopsTheScope()
    {
        var clientId = await RegisterAsync();
        using var patient = Browser();
        var html = await ConsentPageAsync(patient, clientId, "openid research newsletter", null);

        var decided = await DecideAsync(patient, html, new() { ["purpose:research"] = "yes" });
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
        await stranger.SignUpAsync("ledger-" + Guid.NewGuid().ToString("N")[..8], Password);
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

        var silent = await patient.GetAsync(Authorize(clientId, "openid research", "&prompt=none"));
        silent.Headers.Location!.OriginalString.ShouldContain("error=consent_required");
        var openidOnly = await patient.GetAsync(Authorize(clientId, "openid", "&prompt=none"));
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

    private async Task<string> RegisterAsync()
    {
        var clientId = "ledger-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Clinique", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [],
                ["openid", "research", "newsletter"], ["authorization_code"],
                ControllerName: "Clinique Exemple SAS", DpoContact: "mailto:dpo@clinique.example", NoticeUrl: "https://clinique.example/privacy"),
            CancellationToken.None);
        return clientId;
    }

    private static string Authorize(string clientId, string scope, string extra) =>
        $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString($"https://{clientId}.example/cb")}"
        + $"&scope={Uri.EscapeDataString(scope)}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256{extra}";

    private static async Task<string> ConsentPageAsync(PatientBrowser patient, string clientId, string scope, string? extra)
    {
        var authorize = await patient.GetAsync(Authorize(clientId, scope, extra ?? ""));
        var interaction = Uri.UnescapeDataString(authorize.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var page = await patient.FollowAsync(await patient.SignUpAsync("ledger-" + Guid.NewGuid().ToString("N")[..8], Password, interaction));
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"allow\"");
        return html;
    }

    private static Task<HttpResponseMessage> DecideAsync(PatientBrowser patient, string html, Dictionary<string, string> fields)
    {
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(html, "interaction"),
            ["decision"] = "allow",
        };
        foreach (var input in new HtmlParser().ParseDocument(html).QuerySelectorAll("input[type=hidden][name^='notice:']"))
        {
            form[input.GetAttribute("name")!] = input.GetAttribute("value")!;
        }

        foreach (var (name, value) in fields)
        {
            form[name] = value;
        }

        return patient.PostFormAsync("/connect/consent", form);
    }
}

public sealed class LedgerFlowTests_Sqlite(SqliteStores stores) : LedgerFlowTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerFlowTests_Postgres(PostgresStores stores) : LedgerFlowTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
