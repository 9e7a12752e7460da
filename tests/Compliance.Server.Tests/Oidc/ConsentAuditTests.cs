using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>Consent given, refused and withdrawn each leave an audit row a DPO can read, naming the patient's internal id only.</summary>
public abstract class ConsentAuditTests<TStores>(TStores stores) : IDisposable
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
    public async Task ConsentGivenRefusedAndWithdrawn_EachLeavesAnAuditRowWithThePatientAsActorAndNoFreeText()
    {
        var allowed = await RegisterAsync();
        var refused = await RegisterAsync();
        using var patient = new PatientBrowser(_factory.Server.CreateHandler(), new Uri("http://localhost"));
        var pseudonym = "audited-" + Guid.NewGuid().ToString("N")[..8];
        var consent = await ConsentPageAsync(patient, allowed, signUpAs: pseudonym);
        await DecideAsync(patient, consent, "allow");
        await DecideAsync(patient, await ConsentPageAsync(patient, refused, signUpAs: null), "deny");
        var account = await (await patient.GetAsync("/account")).Content.ReadAsStringAsync();
        await patient.PostFormAsync("/account/authorizations/withdraw", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(account, "__RequestVerificationToken"),
            ["client_id"] = allowed,
        });

        await using var scope = _factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var subject = await db.Set<Account>().Where(a => a.UserName == pseudonym).Select(a => a.Id).SingleAsync();
        var rows = await db.Set<AuditEvent>().AsNoTracking().Where(e => e.SubjectId == subject).OrderBy(e => e.Id).ToListAsync();
        rows.Select(r => r.EventId).ShouldBe([AuditEventTypes.ConsentGiven.Id, AuditEventTypes.ConsentRefused.Id, AuditEventTypes.ConsentWithdrawn.Id]);
        rows.ShouldAllBe(r => r.Actor == "patient");
        rows[0].Details!.ShouldContain(allowed);
        rows[1].Details!.ShouldContain(refused);
        rows[2].Details!.ShouldContain(allowed);
        foreach (var row in rows)
        {
            row.Details!.ShouldNotContain(pseudonym);
            row.Details!.ShouldNotContain(Password);
            row.Details!.ShouldNotContain("Partner", Case.Insensitive, "the display name is free text");
        }
    }

    private async Task<string> RegisterAsync()
    {
        var clientId = "audit-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partner " + clientId, ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [], ["openid"], ["authorization_code"]),
            CancellationToken.None);
        return clientId;
    }

    private static async Task<string> ConsentPageAsync(PatientBrowser patient, string clientId, string? signUpAs)
    {
        var authorize = await patient.GetAsync($"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString($"https://{clientId}.example/cb")}"
            + "&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
        var page = signUpAs is null
            ? await patient.FollowAsync(authorize)
            : await patient.FollowAsync(await patient.SignUpAsync(signUpAs, Password, Uri.UnescapeDataString(authorize.Headers.Location!.OriginalString.Split("interaction=")[1])));
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"allow\"");
        return html;
    }

    private static Task<HttpResponseMessage> DecideAsync(PatientBrowser patient, string html, string decision) =>
        patient.PostFormAsync("/connect/consent", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(html, "interaction"),
            ["decision"] = decision,
        });
}

public sealed class ConsentAuditTests_Sqlite(SqliteStores stores) : ConsentAuditTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ConsentAuditTests_Postgres(PostgresStores stores) : ConsentAuditTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
