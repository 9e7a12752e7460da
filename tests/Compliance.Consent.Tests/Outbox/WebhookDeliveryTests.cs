using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Consent.Ledger;
using Compliance.Consent.Outbox;
using Compliance.Jobs.Work;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Subjects;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Tests.Outbox;

/// <summary>
/// A partner learns of consent events by webhook: a real listener receives each event as a Security Event Token that
/// verifies against our published JWKS; a partner that is down is retried with backoff and given up after 72 hours
/// (a moved clock), and the failure is shown to operators; redirects are not followed, and a host resolving to
/// loopback is refused unless the setting allows it.
/// </summary>
public abstract class WebhookDeliveryTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly Dictionary<string, string?> Loopback = new() { ["Oidc:AllowLoopbackHttpFetch"] = "true" };
    private readonly LedgerNodes _nodes = new(stores);
    private WebhookListener _listener = null!;

    public async Task InitializeAsync() => _listener = await WebhookListener.StartAsync();

    public async Task DisposeAsync()
    {
        await _nodes.DisposeAsync();
        await _listener.DisposeAsync();
    }

    [Fact]
    public async Task Withdrawal_ReachesTheWebhook_AsASetThatVerifiesAgainstThePublishedJwks()
    {
        var node = _nodes.Node(Loopback);
        var partner = await PartnerAsync(node, "hook-a", _listener.HookUrl);
        var subject = Guid.CreateVersion7();
        await LedgerNodes.AppendAsync(node, Draft(subject, partner, ConsentState.Given));
        var withdrawal = (await LedgerNodes.AppendAsync(node, Draft(subject, partner, ConsentState.Withdrawn))).Single();

        await RunAsync(node, withdrawal.EventId);

        var request = _listener.Received.ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        request.ContentType.ShouldBe("application/secevent+jwt");
        var token = await ValidateAsync(node, request.Body, partner);
        token.GetHeaderValue<string>("typ").ShouldBe("secevent+jwt");
        token.GetPayloadValue<string>("jti").ShouldBe(withdrawal.EventId.ToString("D"));
        var subId = token.GetPayloadValue<JsonElement>("sub_id");
        subId.GetProperty("format").GetString().ShouldBe("opaque");
        subId.GetProperty("id").GetString().ShouldBe(await PairwiseAsync(node, subject, "hook-a.example"));
        var events = token.GetPayloadValue<JsonElement>("events");
        var withdrawn = events.GetProperty("urn:compliance:event:consent.withdrawn");
        withdrawn.GetProperty("purpose").GetString().ShouldBe("research");
        withdrawn.GetProperty("cursor").GetInt64().ShouldBe(withdrawal.LeafIndex);
        events.EnumerateObject().Count().ShouldBe(1);
        request.Body.ShouldNotContain(subject.ToString("D"), Case.Insensitive);
        token.TryGetPayloadValue<string>("sub", out _).ShouldBeFalse("RFC 8417 events name the subject in sub_id only");
        (await OutboxRowAsync(withdrawal.EventId)).DeliveredAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Append_RefusalOrRequest_WritesNoOutboxRow_AndAPartnerWithoutWebhookGetsARowThatIsNeverPushed()
    {
        var node = _nodes.Node(Loopback);
        var pushed = await PartnerAsync(node, "hook-b", _listener.HookUrl);
        var pulling = await PartnerAsync(node, "hook-b2", webhook: null);
        var subject = Guid.CreateVersion7();

        var refused = (await LedgerNodes.AppendAsync(node, Draft(subject, pushed, ConsentState.Refused))).Single();
        var given = (await LedgerNodes.AppendAsync(node, Draft(subject, pulling, ConsentState.Given))).Single();
        await RunAsync(node, given.EventId);

        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_outbox WHERE event_id = {Id(refused.EventId)}")).ShouldBe(0);
        var row = await OutboxRowAsync(given.EventId);
        row.Type.ShouldBe("consent.given");
        row.DueAt.ShouldBeNull("a partner without a webhook pulls its events");
        _listener.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task PartnerDown_503_IsRetriedWithDoublingBackoff_ThenDelivered_WithTheSameJti()
    {
        var clock = new MovableClock(DateTimeOffset.UtcNow);
        var node = _nodes.Node(Loopback, clock);
        var partner = await PartnerAsync(node, "hook-c", _listener.HookUrl);
        var withdrawal = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Withdrawn))).Single();
        _listener.Status = 503;

        await RunAsync(node, withdrawal.EventId);
        var first = await OutboxRowAsync(withdrawal.EventId);
        await RunAsync(node, withdrawal.EventId);
        clock.Advance(TimeSpan.FromSeconds(30));
        await RunAsync(node, withdrawal.EventId);
        var second = await OutboxRowAsync(withdrawal.EventId);
        _listener.Status = 202;
        clock.Advance(TimeSpan.FromSeconds(60));
        await RunAsync(node, withdrawal.EventId);

        first.LastError.ShouldBe("http_503");
        first.Attempts.ShouldBe(1);
        (first.DueAt!.Value - first.CreatedAt).TotalSeconds.ShouldBe(30, 1, "the first retry after 30 s");
        second.Attempts.ShouldBe(2, "a run before the due time changed nothing");
        (second.DueAt!.Value - clock.GetUtcNow().AddSeconds(-60)).TotalSeconds.ShouldBe(60, 1, "then 60 s");
        _listener.Received.Count.ShouldBe(3);
        _listener.Received.Select(r => new JsonWebToken(r.Body).Id).Distinct().ShouldHaveSingleItem().ShouldBe(withdrawal.EventId.ToString("D"));
        var delivered = await OutboxRowAsync(withdrawal.EventId);
        delivered.DeliveredAt.ShouldNotBeNull();
        delivered.LastError.ShouldBeNull();
    }

    [Fact]
    public async Task PartnerDown_For72Hours_DeliveryIsMarkedFailed_Audited_AndListedForOperators_ThenRetriedByOne()
    {
        var clock = new MovableClock(DateTimeOffset.UtcNow);
        var node = _nodes.Node(Loopback, clock);
        var partner = await PartnerAsync(node, "hook-d", _listener.HookUrl);
        var withdrawal = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Withdrawn))).Single();
        _listener.Status = 503;
        await RunAsync(node, withdrawal.EventId);
        clock.Advance(TimeSpan.FromHours(71));
        await RunAsync(node, withdrawal.EventId);
        (await OutboxRowAsync(withdrawal.EventId)).FailedAt.ShouldBeNull("71 hours is not yet 72");

        clock.Advance(TimeSpan.FromHours(1));
        await RunAsync(node, withdrawal.EventId);

        var row = await OutboxRowAsync(withdrawal.EventId);
        row.FailedAt.ShouldNotBeNull();
        row.LastError.ShouldBe("http_503");
        var failed = await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentOutbox>().FailedAsync(100, CancellationToken.None));
        var listed = failed.Where(f => f.EventId == withdrawal.EventId).ShouldHaveSingleItem();
        (listed.ClientId, listed.Type, listed.Attempts, listed.LastError).ShouldBe((partner, "consent.withdrawn", 3, "http_503"));
        var audit = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ConsentWebhookFailed.Id, withdrawal.EventId.ToString("D"))).ShouldHaveSingleItem();
        audit.Details!.ShouldContain("\"last_error\":\"http_503\"");
        var attemptsBefore = _listener.Received.Count;
        await RunAsync(node, withdrawal.EventId);
        _listener.Received.Count.ShouldBe(attemptsBefore, "a failed delivery is not tried again by itself");

        _listener.Status = 204;
        (await LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IConsentOutbox>().RetryAsync(withdrawal.EventId, CancellationToken.None))).ShouldBeTrue();
        await RunAsync(node, withdrawal.EventId);
        (await OutboxRowAsync(withdrawal.EventId)).DeliveredAt.ShouldNotBeNull();
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ConsentWebhookRetried.Id)).ShouldContain(r => r.Details!.Contains(withdrawal.EventId.ToString("D")));
    }

    [Fact]
    public async Task Redirect_IsNotFollowed_AndCountsAsAFailedAttempt()
    {
        var node = _nodes.Node(Loopback);
        var partner = await PartnerAsync(node, "hook-e", _listener.HookUrl);
        var withdrawal = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Withdrawn))).Single();
        _listener.Status = 307;

        await RunAsync(node, withdrawal.EventId);

        _listener.Received.ShouldHaveSingleItem().Path.ShouldBe("/hook", "the Location was not followed");
        var row = await OutboxRowAsync(withdrawal.EventId);
        row.DeliveredAt.ShouldBeNull();
        row.LastError.ShouldBe("http_307");
    }

    [Fact]
    public async Task WebhookHostResolvingToLoopback_WithoutTheSetting_IsRefusedBeforeConnecting()
    {
        // Registered while the setting allowed it (a DNS answer may change the same way after registration).
        var registrar = _nodes.Node(Loopback);
        var url = $"https://localhost:{_listener.BaseAddress.Port}/hook";
        var partner = await PartnerAsync(registrar, "hook-f", url);
        var node = _nodes.Node();
        var withdrawal = (await LedgerNodes.AppendAsync(node, Draft(Guid.CreateVersion7(), partner, ConsentState.Withdrawn))).Single();

        await RunAsync(node, withdrawal.EventId);

        var row = await OutboxRowAsync(withdrawal.EventId);
        row.LastError.ShouldBe("refused_address");
        row.DeliveredAt.ShouldBeNull();
        _listener.Received.ShouldBeEmpty();
    }

    internal static ConsentEventDraft Draft(Guid subject, string partner, ConsentState state, string purpose = "research") =>
        new(subject, partner, purpose, state, state is ConsentState.Given or ConsentState.Refused ? "2025-09" : null, "fr",
            ConsentMethods.AccountPage, "data-subject", DateTimeOffset.UtcNow);

    /// <summary>Registers a confidential partner whose webhook is <paramref name="webhook"/>.</summary>
    internal static async Task<string> PartnerAsync(IServiceProvider node, string clientId, string? webhook)
    {
        await using var scope = node.CreateAsyncScope();
        var clients = scope.ServiceProvider.GetRequiredService<ClientAdministration>();
        if (await clients.FindAsync(clientId, CancellationToken.None) is null)
        {
            await clients.AddAsync(
                new ClientRequest(clientId, "Partenaire " + clientId, ClientTypes.Confidential, ClientAuthMethods.SecretBasic,
                    [$"https://{clientId}.example/cb"], [], ["openid"], ["authorization_code", "client_credentials"], WebhookUrl: webhook),
                CancellationToken.None, fixedSecret: Secret(clientId));
        }

        return clientId;
    }

    internal static string Secret(string clientId) => "secret-of-" + clientId + "-0123456789abcdef0123456789abcdef";

    internal static Task RunAsync(IServiceProvider node, Guid eventId) =>
        LedgerNodes.InScopeAsync(node, async services =>
        {
            await services.GetServices<IDueWork>().Single(w => w.Kind == "consent.webhook").RunAsync(eventId, CancellationToken.None);
            return 0;
        });

    private static async Task<JsonWebToken> ValidateAsync(IServiceProvider node, string token, string audience)
    {
        var jwks = new JsonWebKeySet();
        foreach (var key in await node.GetRequiredService<ISigningKeys>().GetPublishedKeysAsync(CancellationToken.None))
        {
            jwks.Keys.Add(key);
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = node.GetRequiredService<IOptions<OidcOptions>>().Value.IssuerUri,
            ValidAudience = audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["secevent+jwt"],
            RequireExpirationTime = false,
            ValidateLifetime = false,
        });
        result.IsValid.ShouldBeTrue(result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    private static Task<string> PairwiseAsync(IServiceProvider node, Guid subject, string sector) =>
        LedgerNodes.InScopeAsync(node, s => s.GetRequiredService<IPairwiseSubjects>().SubjectForAsync(subject, sector, CancellationToken.None).AsTask());

    private async Task<OutboxRowView> OutboxRowAsync(Guid eventId) =>
        await LedgerNodes.InScopeAsync(_nodes.Node(), async s =>
        {
            var db = s.GetRequiredService<Compliance.Data.Model.ComplianceDbContext>();
            var row = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AsNoTracking(db.Set<OutboxEvent>()), e => e.EventId == eventId);
            return new OutboxRowView(row.EventType, row.CreatedAt, row.DueAt, row.Attempts, row.DeliveredAt, row.FailedAt, row.LastError);
        });

    private string Id(Guid id) => stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";

    private sealed record OutboxRowView(string Type, DateTimeOffset CreatedAt, DateTimeOffset? DueAt, int Attempts, DateTimeOffset? DeliveredAt, DateTimeOffset? FailedAt, string? LastError);
}

public sealed class WebhookDeliveryTests_Sqlite(SqliteStores stores) : WebhookDeliveryTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class WebhookDeliveryTests_Postgres(PostgresStores stores) : WebhookDeliveryTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
