using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Consent;
using Compliance.Consent.Ledger;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Policies;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>clients add|update --webhook-url</c> (the jwks_uri rules, and never a private or loopback address) and
/// <c>outbox failed|retry</c>: operators see the deliveries given up, without personal data, and send one again.
/// </summary>
public abstract class OutboxCommandTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
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

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Theory]
    [InlineData("http://partner.example/hook")]
    [InlineData("https://user:pass@partner.example/hook")]
    [InlineData("https://partner.example/hook#frag")]
    [InlineData("https://10.0.0.5/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("ftp://partner.example/hook")]
    [InlineData("/relative/hook")]
    public async Task AddWebhookUrl_Hostile_IsRefusedInOneLineWithoutEchoingIt(string url)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "hook-hostile", "--name", "H",
            "--redirect-uri", "https://hook-hostile.example/cb", "--webhook-url", url, .. Settings]);

        exitCode.ShouldBe(1);
        error.Trim().Split('\n').ShouldHaveSingleItem().ShouldStartWith("webhook_url: must be an absolute https URL");
        error.ShouldNotContain(url);
        (await CliRunner.RunAsync(["clients", "show", "hook-hostile", .. Settings])).ExitCode.ShouldBe(1);
    }

    [Fact]
    public async Task AddWebhookUrl_Https_IsShownAndAuditedWithoutTheUrl_ThenUpdatedAndCleared()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "hook-ok", "--name", "H",
            "--redirect-uri", "https://hook-ok.example/cb", "--webhook-url", "https://hook-ok.example/consent-events?token=s3cret", .. Settings]);
        exitCode.ShouldBe(0, error);
        (await ShowAsync("hook-ok")).GetProperty("WebhookUrl").GetString().ShouldBe("https://hook-ok.example/consent-events?token=s3cret");
        var registered = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientRegistered.Id, "\"hook-ok\"")).ShouldHaveSingleItem();
        registered.Details!.ShouldContain("\"webhook\":true");
        registered.Details!.ShouldNotContain("s3cret");

        var both = await CliRunner.RunAsync(["clients", "update", "hook-ok", "--webhook-url", "https://hook-ok.example/v2", "--no-webhook-url", .. Settings]);
        var changed = await CliRunner.RunAsync(["clients", "update", "hook-ok", "--webhook-url", "https://hook-ok.example/v2", .. Settings]);
        var cleared = await CliRunner.RunAsync(["clients", "update", "hook-ok", "--no-webhook-url", .. Settings]);

        both.ExitCode.ShouldBe(1);
        both.Error.ShouldContain("webhook_url: give a new value or clear it, not both.");
        changed.ExitCode.ShouldBe(0, changed.Error);
        changed.Output.ShouldContain("webhook_url");
        cleared.ExitCode.ShouldBe(0, cleared.Error);
        (await ShowAsync("hook-ok")).GetProperty("WebhookUrl").ValueKind.ShouldBe(JsonValueKind.Null);
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientUpdated.Id, "\"hook-ok\"")).Count.ShouldBe(2);
    }

    [Fact]
    public async Task OutboxFailed_ListsAFailedDeliveryWithoutPersonalData_AndRetrySendsItAgain_Audited()
    {
        (await CliRunner.RunAsync(["clients", "add", "--id", "hook-down", "--name", "D", "--redirect-uri", "https://hook-down.example/cb",
            "--webhook-url", "https://hook-down.example/events", .. Settings])).ExitCode.ShouldBe(0);
        var subject = Guid.CreateVersion7();
        await using (var scope = _node.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IConsentLedger>().AppendAsync(
                [new ConsentEventDraft(subject, "hook-down", "research", ConsentState.Withdrawn, null, "fr", ConsentMethods.AccountPage, "data-subject", DateTimeOffset.UtcNow)],
                CancellationToken.None);
        }

        var eventId = Guid.Parse((await StoreSql.ScalarAsync(stores.Compliance, "SELECT event_id FROM consent_outbox WHERE client_id = 'hook-down'"))!.ToString()!);
        var sub = (string)(await StoreSql.ScalarAsync(stores.Compliance, "SELECT subject FROM consent_outbox WHERE client_id = 'hook-down'"))!;
        var none = await CliRunner.RunAsync(["outbox", "failed", .. Settings]);
        await StoreSql.ExecuteAsync(stores.Compliance,
            "UPDATE consent_outbox SET failed_at = due_at, attempts = 7, last_error = 'http_503' WHERE client_id = 'hook-down'");

        var failed = await CliRunner.RunAsync(["outbox", "failed", .. Settings]);
        var retried = await CliRunner.RunAsync(["outbox", "retry", eventId.ToString("D"), .. Settings]);
        var again = await CliRunner.RunAsync(["outbox", "retry", eventId.ToString("D"), .. Settings]);
        var garbage = await CliRunner.RunAsync(["outbox", "retry", "'; DROP TABLE consent_outbox; --", .. Settings]);
        var after = await CliRunner.RunAsync(["outbox", "failed", .. Settings]);

        none.ExitCode.ShouldBe(0, none.Error);
        none.Output.ShouldContain("No failed delivery.");
        failed.ExitCode.ShouldBe(1);
        failed.Output.ShouldContain($"hook-down\t{eventId:D}\tconsent.withdrawn\t");
        failed.Output.ShouldContain("\t7\thttp_503\t");
        failed.Output.ShouldNotContain(sub);
        failed.Output.ShouldNotContain(subject.ToString("D"), Case.Insensitive);
        retried.ExitCode.ShouldBe(0, retried.Error);
        again.ExitCode.ShouldBe(1, "it is no longer failed");
        garbage.ExitCode.ShouldBe(2);
        garbage.Error.ShouldContain("not an event id");
        after.Output.ShouldContain("No failed delivery.");
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ConsentWebhookRetried.Id, eventId.ToString("D"))).ShouldHaveSingleItem();
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM consent_outbox WHERE client_id = 'hook-down' AND failed_at IS NULL AND due_at IS NOT NULL"))
            .ShouldBe(1, "due again, for a server's job to deliver");
    }

    private async Task<JsonElement> ShowAsync(string clientId)
    {
        var shown = await CliRunner.RunAsync(["clients", "show", clientId, .. Settings]);
        shown.ExitCode.ShouldBe(0, shown.Error);
        return JsonDocument.Parse(shown.Output).RootElement.Clone();
    }
}

public sealed class OutboxCommandTests_Sqlite(SqliteStores stores) : OutboxCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class OutboxCommandTests_Postgres(PostgresStores stores) : OutboxCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
