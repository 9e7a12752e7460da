using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Consent;
using Compliance.Consent.Ledger;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Jobs;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Compliance.Server.Tests.Startup;
using Compliance.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Compliance.Server.Tests.Jobs;

/// <summary>
/// Notice to partners must not depend on their uptime, nor on ours: a real server process is killed with SIGKILL while
/// webhooks are pending (the partner answering 503 until then); after a restart each event is delivered at least once,
/// always with the same <c>jti</c>, and the pull feed returns the same events. As <see cref="JobsAcrossCrashesTests"/>.
/// </summary>
public sealed class OutboxAcrossCrashesTests : IAsyncLifetime
{
    private const int Events = 20;
    private const string Partner = "crash-partner";
    private const string Secret = "crash-partner-secret-0123456789abcdef0123456789abcdef";
    private readonly EmptyStores _empty = new();
    private readonly string _root = Directory.CreateTempSubdirectory("compliance-outboxcrash-").FullName;
    private readonly ConcurrentQueue<(string Jti, int Status)> _received = new();
    private WebApplication _listener = null!;
    private volatile int _status = 503;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _listener = builder.Build();
        _listener.MapPost("/hook", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var status = _status;
            _received.Enqueue((new JsonWebToken(await reader.ReadToEndAsync()).Id, status));
            context.Response.StatusCode = status;
        });
        await _listener.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _empty.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSQL)]
    public async Task KillNine_WithWebhooksPending_RestartDeliversEachAtLeastOnce_WithAStableJti_AndThePullReturnsTheSame(DatabaseProvider provider)
    {
        var settings = await StoresAsync(provider);
        var appended = await AppendWithdrawalsAsync(settings);

        await using (var first = ServerProcess.Start(settings))
        {
            await WaitForAsync(() => _received.Count >= Events, TimeSpan.FromSeconds(90), "every event attempted while the partner is down");
            first.KillHard();
            await first.WaitForExitAsync();
        }

        (await DeliveredAsync(settings)).ShouldBe(0, "the partner answered 503 until the kill");
        _status = 202;
        await using var second = ServerProcess.Start(settings);
        await WaitForAsync(async () => await DeliveredAsync(settings) == Events, TimeSpan.FromSeconds(120), "every event delivered after the restart");

        var ids = appended.Select(e => e.EventId.ToString("D")).Order().ToList();
        _received.Where(r => r.Status == 202).Select(r => r.Jti).Distinct().Order().ToList().ShouldBe(ids, customMessage: "each delivered at least once");
        _received.Select(r => r.Jti).Distinct().Order().ToList().ShouldBe(ids, customMessage: "every attempt carried its event id, never a new one");
        await second.WaitUntilReadyAsync();
        using var http = new HttpClient { BaseAddress = second.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/partner/v1/events?limit=500");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Partner}:{Secret}")));
        using var response = await http.SendAsync(request);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("jti").GetString()!)
            .ShouldBe(appended.OrderBy(e => e.LeafIndex).Select(e => e.EventId.ToString("D")), customMessage: "the same events, in cursor order");
    }

    private async Task<Dictionary<string, string?>> StoresAsync(DatabaseProvider provider)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, Guid.NewGuid().ToString("N")[..8]), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var settings = await MigratedStores.CreateAsync(_empty, provider, folder);
        settings["Jobs:ReconcileCron"] = "*/1 * * * * *";
        settings["Jobs:EnqueuedLeaseSeconds"] = "3";
        // The killed node may hold Hangfire's scheduler locks; its successor takes them after this.
        settings["Jobs:LockTimeoutSeconds"] = "5";
        settings["Jobs:WorkerCount"] = "2";
        settings["Oidc:AllowLoopbackHttpFetch"] = "true";
        settings["Consent:Outbox:RetryBaseSeconds"] = "1";
        settings["Consent:Outbox:RetryMaxSeconds"] = "2";
        settings["Consent:Outbox:TimeoutSeconds"] = "2";
        return settings;
    }

    // Appends as the consent pages would, from this process: on PostgreSQL each append also enqueues its delivery in the
    // shared job store; on SQLite the job store is this process's memory, so only the server's reconciler finds them.
    private async Task<IReadOnlyList<AppendedConsentEvent>> AppendWithdrawalsAsync(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false",
            ["Keys:CreateKekIfMissing"] = "true",
            ["Policies:Directory"] = Path.Combine(AppContext.BaseDirectory, "policies"),
        }).Build();
        var services = new ServiceCollection().AddLogging().AddComplianceData(configuration, gateStartup: false);
        services.AddCompliancePolicies(configuration);
        services.AddComplianceJobs(configuration).AddComplianceKeys(configuration).AddComplianceOidc(configuration).AddComplianceConsent(configuration);
        await using var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(Partner, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, ["https://crash-partner.example/cb"], [], ["openid"],
                    ["authorization_code"], WebhookUrl: new Uri(new Uri(_listener.Urls.Single()), "/hook").ToString()),
                CancellationToken.None, fixedSecret: Secret);
        }

        var appended = new List<AppendedConsentEvent>();
        for (var i = 0; i < Events; i++)
        {
            await using var scope = provider.CreateAsyncScope();
            appended.AddRange(await scope.ServiceProvider.GetRequiredService<IConsentLedger>().AppendAsync(
                [new ConsentEventDraft(Guid.CreateVersion7(), Partner, "research", ConsentState.Withdrawn, null, "fr", ConsentMethods.AccountPage, "data-subject", DateTimeOffset.UtcNow)],
                CancellationToken.None));
        }

        return appended;
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan timeout, string what) => await WaitForAsync(() => Task.FromResult(done()), timeout, what);

    private static async Task WaitForAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not done after {timeout}: {what}.");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<long> DeliveredAsync(Dictionary<string, string?> settings)
    {
        var options = new StorageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(StorageOptions.SectionName).Bind(options);
        await using var connection = StoreSql.Connect(options.ConnectionFor(Store.Compliance));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM consent_outbox WHERE delivered_at IS NOT NULL";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
