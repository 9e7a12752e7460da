using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Data.Storage;
using Compliance.Policies;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace Compliance.Server.Tests.Startup;

/// <summary>
/// Two real server processes on one PostgreSQL, as two nodes behind a load balancer: partners record consents on both
/// at once and the ledger keeps one gapless order with every event once; a consent recorded on one node is what the
/// next check on the other answers, every time.
/// </summary>
public sealed class ConsentAcrossNodesTests : IAsyncLifetime
{
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private readonly EmptyStores _empty = new();
    private Dictionary<string, string?> _settings = null!;
    private ServerProcess _nodeA = null!;
    private ServerProcess _nodeB = null!;
    private string _clientId = null!;
    private string _secret = null!;

    public async Task InitializeAsync()
    {
        _settings = await _empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL);
        _settings["Storage:MigrateOnStart"] = "true";
        _settings["Oidc:InteractiveRequestsPerMinute"] = "10000";
        _settings["Oidc:TokenRequestsPerSecond"] = "1000000";
        _nodeA = ServerProcess.Start(_settings);
        await _nodeA.WaitUntilReadyAsync();
        _nodeB = ServerProcess.Start(_settings);
        await _nodeB.WaitUntilReadyAsync();

        _clientId = "nodes-" + Guid.NewGuid().ToString("N")[..8];
        var (exitCode, output, error) = await CliProcess.RunAsync(_settings, "clients", "add", "--id", _clientId, "--name", "Clinique",
            "--redirect-uri", $"https://{_clientId}.example/cb", "--scope", "openid research newsletter", "--grant", "authorization_code",
            "--controller-name", "Clinique Exemple SAS", "--dpo-contact", "mailto:dpo@clinique.example", "--notice-url", "https://clinique.example/privacy", "--json");
        exitCode.ShouldBe(0, error);
        _secret = JsonDocument.Parse(output).RootElement.GetProperty("client_secret").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
        await _empty.DisposeAsync();
    }

    [Fact]
    public async Task FiftyWritersOnTwoNodes_TwoHundredEventsEach_OneGaplessOrder_NoEventLost_AndTheLedgerVerifies()
    {
        const int writers = 50;
        const int eventsEach = 200;
        // A patient per writer: decisions on one consent are ordered by the partner (a decision collected before the one
        // that stands is refused), so each writer gives, renews and withdraws its own patient's consent, in turn.
        var subs = new List<string>();
        for (var writer = 0; writer < writers; writer++)
        {
            subs.Add(await PatientSubAsync());
        }

        var notice = Notice();
        var start = await LeafCountAsync();
        var recorded = new ConcurrentDictionary<string, Guid>();
        using var onA = Api(_nodeA);
        using var onB = Api(_nodeB);

        await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var api = writer % 2 == 0 ? onA : onB;
            for (var i = 0; i < eventsEach; i++)
            {
                var key = $"w{writer:00}-{i:000}";
                var response = await RecordAsync(api, key, subs[writer], i % 3 == 2 ? "withdrawn" : "given", notice, key);
                var body = await response.Content.ReadAsStringAsync();
                response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
                recorded[key] = JsonDocument.Parse(body).RootElement.GetProperty("event_id").GetGuid();
            }
        })));

        recorded.Count.ShouldBe(writers * eventsEach);
        await using var connection = new NpgsqlConnection(_settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        (await ScalarAsync(connection, "SELECT count(*) FROM consent_leaves")).ShouldBe(start + (writers * eventsEach));
        (await ScalarAsync(connection, "SELECT max(leaf_index) + 1 FROM consent_leaves")).ShouldBe(start + (writers * eventsEach), "the indexes are gapless");
        (await ScalarAsync(connection, "SELECT count(DISTINCT event_id) FROM consent_leaves")).ShouldBe(start + (writers * eventsEach));
        var events = recorded.Values.ToArray();
        await using (var command = new NpgsqlCommand("SELECT count(*) FROM consent_leaves WHERE event_id = ANY(@events)", connection))
        {
            command.Parameters.AddWithValue("events", events);
            ((long)(await command.ExecuteScalarAsync())!).ShouldBe(events.Length, "every recorded event is in the log, once");
        }

        (await ScalarAsync(connection, $"SELECT count(*) FROM consent_partner_requests WHERE client_id = '{_clientId}'")).ShouldBe(writers * eventsEach);
        var (exitCode, output, error) = await CliProcess.RunAsync(_settings, "ledger", "verify");
        exitCode.ShouldBe(0, output + error);
        output.ShouldContain((start + (writers * eventsEach)).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AThousandRecordsOnAThenChecksOnB_NeverAStaleAnswer()
    {
        var sub = await PatientSubAsync();
        var notice = Notice();
        using var onA = Api(_nodeA);
        using var onB = Api(_nodeB);
        var stale = new List<string>();

        for (var i = 0; i < 1000; i++)
        {
            var decision = i % 2 == 0 ? "given" : "withdrawn";
            var recorded = await RecordAsync(onA, $"pair-{i:0000}", sub, decision, notice, $"pair-{i}");
            var recordedBody = await recorded.Content.ReadAsStringAsync();
            recorded.StatusCode.ShouldBe(HttpStatusCode.Created, recordedBody);
            var eventId = JsonDocument.Parse(recordedBody).RootElement.GetProperty("event_id").GetGuid();

            var check = await onB.PostAsync("/partner/v1/consents/check",
                new StringContent(JsonSerializer.Serialize(new { sub, purpose = "research" }), Encoding.UTF8, "application/json"));
            var answer = JsonDocument.Parse(await check.Content.ReadAsStringAsync()).RootElement;
            if (answer.GetProperty("event_id").GetGuid() != eventId || answer.GetProperty("allowed").GetBoolean() != (decision == "given"))
            {
                stale.Add($"pair {i}: recorded {eventId} ({decision}) on A, B answered {answer}");
            }
        }

        stale.ShouldBeEmpty();
    }

    /// <summary>A new patient signs up on node A through the partner's consent screen (research refused); returns the partner's sub.</summary>
    private async Task<string> PatientSubAsync()
    {
        using var patient = new PatientBrowser(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _nodeA.BaseAddress });
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, _clientId, "openid research", null);
        var decided = await PurposeConsentSteps.DecideAsync(patient, html, "allow", []);
        var code = Uri.UnescapeDataString(decided.Headers.Location!.OriginalString.Split("code=")[1].Split('&')[0]);
        using var api = Api(_nodeB);
        var response = await api.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = $"https://{_clientId}.example/cb", ["code_verifier"] = Verifier,
        }));
        var raw = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, raw);
        return new JsonWebToken(JsonDocument.Parse(raw).RootElement.GetProperty("id_token").GetString()).Subject;
    }

    private static (string Version, string Sha256) Notice()
    {
        var notice = PolicyLoader.Load(Path.Combine(RepositoryRoot(), "policies")).FindPurpose("research")!.CurrentNotice(DateTimeOffset.UtcNow)!;
        return (notice.Version, notice.In("fr")!.Sha256);
    }

    private HttpClient Api(ServerProcess node)
    {
        var client = new HttpClient { BaseAddress = node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(_clientId)}:{Uri.EscapeDataString(_secret)}")));
        return client;
    }

    private static Task<HttpResponseMessage> RecordAsync(HttpClient api, string key, string sub, string decision, (string Version, string Sha256) notice, string reference)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["sub"] = sub, ["purpose"] = "research", ["decision"] = decision, ["notice_version"] = notice.Version, ["notice_sha256"] = notice.Sha256,
            ["language"] = "fr", ["collected_at"] = DateTimeOffset.UtcNow.ToString("O"), ["reference"] = reference,
            ["collection_method"] = "app-checkbox",
        });
        var request = new HttpRequestMessage(HttpMethod.Post, "/partner/v1/consents") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return api.SendAsync(request);
    }

    private async Task<long> LeafCountAsync()
    {
        await using var connection = new NpgsqlConnection(_settings["Storage:ComplianceConnectionString"]);
        await connection.OpenAsync();
        return await ScalarAsync(connection, "SELECT count(*) FROM consent_leaves");
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string RepositoryRoot() => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
}
