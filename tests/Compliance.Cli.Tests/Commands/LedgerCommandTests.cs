using Compliance.Consent;
using Compliance.Consent.Ledger;
using Compliance.Consent.Receipts;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>compliance ledger verify</c>, <c>keys</c> and <c>verify-receipt</c>: the untouched ledger is intact (exit 0), a
/// payload changed behind the triggers' back is named (exit 1), and a patient's receipt checks out offline with the
/// printed keys alone, an altered one does not.
/// </summary>
public abstract class LedgerCommandTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compliance-ledger-cli-").FullName;
    private ServiceProvider _node = null!;

    private string[] Settings => CliRunner.Settings(stores.Settings);

    public Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(stores.Settings)
        {
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        _node = StoreServices.Build(stores, services => services.AddCompliancePolicies(configuration)
            .AddComplianceKeys(configuration).AddComplianceOidc(configuration).AddComplianceConsent(configuration));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task VerifyReceipt_WithThePrintedKeysAlone_IsValid_AndAnAlteredReceiptIsNot()
    {
        var (subject, eventId) = await GiveAsync("cli-receipt");
        await using var scope = _node.CreateAsyncScope();
        var receipt = (await scope.ServiceProvider.GetRequiredService<IConsentReceipts>().ForSubjectAsync(subject, eventId, CancellationToken.None))!;
        var receiptFile = Path.Combine(_folder, "receipt.json");
        await File.WriteAllBytesAsync(receiptFile, receipt);
        var keys = await CliRunner.RunAsync(["ledger", "keys", .. Settings]);
        keys.ExitCode.ShouldBe(0, keys.Error);
        var keysFile = Path.Combine(_folder, "keys.json");
        await File.WriteAllTextAsync(keysFile, keys.Output);

        var valid = await CliRunner.RunAsync(["ledger", "verify-receipt", receiptFile, "--keys", keysFile]);

        valid.ExitCode.ShouldBe(0, valid.Error);
        valid.Output.ShouldContain($"The receipt is valid: record {eventId}");
        var altered = Path.Combine(_folder, "altered.json");
        var text = System.Text.Encoding.UTF8.GetString(receipt);
        var salt = System.Text.Json.JsonDocument.Parse(receipt).RootElement.GetProperty("salt").GetString()!;
        await File.WriteAllTextAsync(altered, text.Replace(salt, Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(new byte[32]), StringComparison.Ordinal));
        var refused = await CliRunner.RunAsync(["ledger", "verify-receipt", altered, "--keys", keysFile]);
        refused.ExitCode.ShouldBe(1);
        refused.Error.ShouldStartWith("The receipt is not valid:");
    }

    [Fact]
    public async Task Verify_Untouched_IsIntact_ThenAChangedPayloadIsNamed()
    {
        var (_, eventId) = await GiveAsync("cli-verify");
        (await CliRunner.RunAsync(["ledger", "checkpoint", .. Settings])).ExitCode.ShouldBe(0);

        var intact = await CliRunner.RunAsync(["ledger", "verify", .. Settings]);
        intact.ExitCode.ShouldBe(0, intact.Output + intact.Error);
        intact.Output.ShouldContain("The ledger is intact.");

        var id = stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{eventId.ToString().ToUpperInvariant()}'" : $"'{eventId}'";
        await StoreSql.ExecuteAsync(stores.Compliance, stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite
            ? $"DROP TRIGGER consent_payloads_redaction_only; UPDATE consent_payloads SET payload = X'7B7D' WHERE event_id = {id}"
            : $"SET session_replication_role = replica; UPDATE consent_payloads SET payload = decode('7b7d', 'hex') WHERE event_id = {id}");
        var tampered = await CliRunner.RunAsync(["ledger", "verify", .. Settings]);

        tampered.ExitCode.ShouldBe(1);
        tampered.Output.ShouldContain($"Changed: leaf");
        tampered.Output.ShouldContain($"event {eventId}");
        tampered.Output.ShouldContain("The ledger was tampered with");
    }

    private async Task<(Guid Subject, Guid EventId)> GiveAsync(string clientId)
    {
        await using var scope = _node.CreateAsyncScope();
        var clients = scope.ServiceProvider.GetRequiredService<ClientAdministration>();
        if (await clients.FindAsync(clientId, CancellationToken.None) is null)
        {
            await clients.AddAsync(new ClientRequest(clientId, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic,
                [$"https://{clientId}.example/cb"], [], ["openid"], ["authorization_code"]), CancellationToken.None);
        }

        var subject = Guid.CreateVersion7();
        var appended = await scope.ServiceProvider.GetRequiredService<IConsentLedger>().AppendAsync(
            [new ConsentEventDraft(subject, clientId, "research", ConsentState.Given, "2025-09", "fr", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow)],
            CancellationToken.None);
        return (subject, appended[0].EventId);
    }
}

public sealed class LedgerCommandTests_Sqlite(SqliteStores stores) : LedgerCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class LedgerCommandTests_Postgres(PostgresStores stores) : LedgerCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
