using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Compliance.Consent;
using Compliance.Consent.Ledger;
using Compliance.Consent.Outbox;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Compliance.Server.Tests.Oidc;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Server.Tests.Consent;

/// <summary>
/// The partner consent API through the real server: checks answer from the ledger, a partner records what it collected
/// (idempotently), a withdrawal on /account reaches the partner's tokens (introspection) and its session (back-channel
/// logout to a real listener), partners see only their own subjects, and payers never see a care purpose.
/// </summary>
public abstract class PartnerConsentApiTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private readonly ComplianceFactory _factory = new(new Dictionary<string, string?>(stores.Settings) { ["Oidc:AllowLoopbackHttpFetch"] = "true" });

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WithdrawalOnAccount_MakesTheTokensInactive_LogsThePartnerOut_AndTheCheckDenies()
    {
        using var listener = Listen("bcl", out var logoutUrl);
        using var webhook = Listen("hook", out var hookUrl);
        var partner = await RegisterAsync("wd-", backchannel: logoutUrl, webhookUrl: hookUrl);
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var api = Api(partner);

        (await IntrospectAsync(api, tokens.Access)).ShouldBeTrue();
        (await IntrospectAsync(api, tokens.Refresh)).ShouldBeTrue();
        var before = await CheckAsync(api, tokens.Sub, "research");
        before.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        before.GetProperty("reason").GetString().ShouldBe("given");

        var account = await patient.GetAsync("/account");
        var html = await account.Content.ReadAsStringAsync();
        var withdraw = await patient.PostFormAsync("/account/consents/withdraw", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["client_id"] = partner.ClientId,
            ["purpose_id"] = "research",
        });
        ((int)withdraw.StatusCode).ShouldBe(302);

        (await IntrospectAsync(api, tokens.Access)).ShouldBeFalse("the access token rested on the withdrawn purpose");
        (await IntrospectAsync(api, tokens.Refresh)).ShouldBeFalse("so did the refresh token");
        var after = await CheckAsync(api, tokens.Sub, "research");
        after.GetProperty("allowed").GetBoolean().ShouldBeFalse();
        after.GetProperty("reason").GetString().ShouldBe("withdrawn");
        after.GetProperty("event_id").GetGuid().ShouldNotBe(before.GetProperty("event_id").GetGuid());

        var received = await listener.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(received.Request.InputStream);
        var form = await reader.ReadToEndAsync();
        received.Response.StatusCode = 200;
        received.Response.Close();
        var logout = new JsonWebToken(Uri.UnescapeDataString(form.Split("logout_token=")[1]));
        logout.Audiences.ShouldBe([partner.ClientId]);
        logout.Subject.ShouldBe(tokens.Sub);
        (await patient.GetAsync("/account")).StatusCode.ShouldBe(HttpStatusCode.OK, "the patient stays signed in here; only the partner's part ended");

        // The partner's webhook gets the withdrawal as a Security Event Token that verifies with the published keys
        // alone. The job that delivers it is run here as Hangfire would run it (test hosts run no job server).
        var withdrawalId = after.GetProperty("event_id").GetGuid();
        var delivering = Task.Run(async () =>
        {
            await using var scope = _factory.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetServices<Compliance.Jobs.Work.IDueWork>().Single(w => w.Kind == "consent.webhook").RunAsync(withdrawalId, CancellationToken.None);
        });
        var pushed = await webhook.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var pushedBody = new StreamReader(pushed.Request.InputStream);
        var set = await pushedBody.ReadToEndAsync();
        pushed.Response.StatusCode = 202;
        pushed.Response.Close();
        await delivering;
        pushed.Request.ContentType.ShouldBe("application/secevent+jwt");
        using var anonymous = _factory.CreateClient();
        var jwks = new JsonWebKeySet(await anonymous.GetStringAsync("/.well-known/jwks.json"));
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(set, new TokenValidationParameters
        {
            ValidIssuer = "http://localhost",
            ValidateIssuer = false,
            ValidAudience = partner.ClientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["secevent+jwt"],
            RequireExpirationTime = false,
            ValidateLifetime = false,
        });
        validated.IsValid.ShouldBeTrue(validated.Exception?.Message);
        var token = (JsonWebToken)validated.SecurityToken;
        token.Id.ShouldBe(withdrawalId.ToString());
        token.GetPayloadValue<JsonElement>("sub_id").GetProperty("id").GetString().ShouldBe(tokens.Sub);
        token.GetPayloadValue<JsonElement>("events").TryGetProperty("urn:compliance:event:consent.withdrawn", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task PartnerRecordsAConsent_TheCheckAllowsIt_TheAccountSaysWhoRecordedIt_AndTheSameKeyReplays()
    {
        var partner = await RegisterAsync("rec-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("reason").GetString().ShouldBe("refused");
        var body = RecordBody(tokens.Sub, "given", await NoticeAsync("research", "fr"));

        var first = await RecordAsync(api, "key-1", body);
        var replay = await RecordAsync(api, "key-1", body);
        var otherBody = await RecordAsync(api, "key-1", body.Replace("\"ref-1\"", "\"ref-2\"", StringComparison.Ordinal));

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var recorded = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        recorded.GetProperty("state").GetString().ShouldBe("Given");
        replay.StatusCode.ShouldBe(HttpStatusCode.OK);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement.GetProperty("event_id").GetGuid()
            .ShouldBe(recorded.GetProperty("event_id").GetGuid());
        await ShouldBeProblemAsync(otherBody, 422, "idempotency_key_reused");
        var check = await CheckAsync(api, tokens.Sub, "research");
        check.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        check.GetProperty("event_id").GetGuid().ShouldBe(recorded.GetProperty("event_id").GetGuid());

        var account = new HtmlParser().ParseDocument(await (await patient.GetAsync("/account")).Content.ReadAsStringAsync());
        account.QuerySelector($"#consent-{partner.ClientId}-research")!.GetAttribute("data-state").ShouldBe("Given");
        var history = account.QuerySelectorAll(".consent-history li").Select(li => li.TextContent).ToList();
        history.Count(h => h.Contains("enregistré par Clinique Exemple SAS", StringComparison.Ordinal)).ShouldBe(1, string.Join(" | ", history));
        history.Count(h => h.Contains("(ici)", StringComparison.Ordinal)).ShouldBe(2, "the consent screen's refusals of research and newsletter");
        await using var scope = _factory.Services.CreateAsyncScope();
        var receipt = await scope.ServiceProvider.GetRequiredService<Compliance.Consent.Receipts.IConsentReceipts>()
            .ForSubjectAsync(await SubjectIdAsync(scope.ServiceProvider, partner, tokens.Sub), recorded.GetProperty("event_id").GetGuid(), CancellationToken.None);
        using var anonymous = _factory.CreateClient();
        var verified = Compliance.Consent.Receipts.ReceiptVerifier.Verify(receipt!, await anonymous.GetStringAsync("/ledger/keys"));
        verified.Valid.ShouldBeTrue(verified.Refusal);
        verified.Record!.Method.ShouldBe("partner-api");
        verified.Record.Actor.ShouldBe("partner:" + partner.ClientId);
        verified.Record.RecordedBy!.Reference.ShouldBe("ref-1");
        verified.Record.RecordedBy.CollectionMethod.ShouldBe("app-checkbox");
    }

    [Fact]
    public async Task Record_SameKeySameBodyAtOnce_RecordsOneEvent_AndEveryOtherAnswerReplaysIt()
    {
        var partner = await RegisterAsync("race-give-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        var body = RecordBody(tokens.Sub, "given", await NoticeAsync("research", "fr"));

        var answers = await RaceAsync(api, Enumerable.Repeat(("give-at-once", body), Racers));

        var recorded = ShouldBeOneRecordedAndReplays(answers);
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("event_id").GetGuid().ShouldBe(recorded);
        (await PulledAsync(api, tokens.Sub, OutboxEventTypes.ConsentGiven)).ShouldBe([recorded], "one event in the ledger, whatever the number of retries");
    }

    [Fact]
    public async Task Record_SameKeySameWithdrawalAtOnce_RecordsOneEvent_AndEveryOtherAnswerReplaysIt()
    {
        var partner = await RegisterAsync("race-wd-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        (await RecordAsync(api, "give-first", RecordBody(tokens.Sub, "given", await NoticeAsync("research", "fr")))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var withdrawal = RecordBody(tokens.Sub, "withdrawn", null);

        var answers = await RaceAsync(api, Enumerable.Repeat(("withdraw-at-once", withdrawal), Racers));

        var recorded = ShouldBeOneRecordedAndReplays(answers);
        var check = await CheckAsync(api, tokens.Sub, "research");
        check.GetProperty("reason").GetString().ShouldBe("withdrawn");
        check.GetProperty("event_id").GetGuid().ShouldBe(recorded);
        (await PulledAsync(api, tokens.Sub, OutboxEventTypes.ConsentWithdrawn)).ShouldBe([recorded]);
    }

    [Theory]
    [InlineData("given")]
    [InlineData("withdrawn")]
    public async Task Record_SameKeyDifferentBodiesAtOnce_RecordsOneEvent_AndRefusesTheOtherBodies(string decision)
    {
        var partner = await RegisterAsync("race-mix-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        var notice = await NoticeAsync("research", "fr");
        if (decision == "withdrawn")
        {
            (await RecordAsync(api, "give-first", RecordBody(tokens.Sub, "given", notice))).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var eventType = decision == "given" ? OutboxEventTypes.ConsentGiven : OutboxEventTypes.ConsentWithdrawn;
        var before = await PulledAsync(api, tokens.Sub, eventType);
        var body = RecordBody(tokens.Sub, decision, decision == "given" ? notice : null);
        string[] bodies = [body, body.Replace("\"ref-1\"", "\"ref-2\"", StringComparison.Ordinal), body.Replace("\"ref-1\"", "\"ref-3\"", StringComparison.Ordinal)];

        var answers = await RaceAsync(api, Enumerable.Range(0, Racers).Select(i => ("mixed-at-once", bodies[i % bodies.Length])));

        answers.ShouldAllBe(a => a.Status != 500, Describe(answers));
        var winners = answers.Where(a => a.Status == 201).ToList();
        winners.Count.ShouldBe(1, Describe(answers));
        var winner = winners[0];
        foreach (var answer in answers.Where(a => a.Status != 201))
        {
            if (answer.Body == winner.Body)
            {
                (answer.Status, answer.Replayed, answer.EventId).ShouldBe((200, true, winner.EventId), Describe(answers));
            }
            else
            {
                (answer.Status, answer.Code).ShouldBeOneOf([(422, "idempotency_key_reused"), (409, "request_in_progress")], Describe(answers));
            }
        }

        (await PulledAsync(api, tokens.Sub, eventType)).Except(before).ShouldBe([winner.EventId!.Value]);
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("event_id").GetGuid().ShouldBe(winner.EventId!.Value);
    }

    [Fact]
    public async Task Record_WithdrawalRetriedAfterItSucceeded_ReplaysIt_EvenOnceTheConsentMovedOn()
    {
        var partner = await RegisterAsync("retry-wd-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        var notice = await NoticeAsync("research", "fr");
        (await RecordAsync(api, "give-1", RecordBody(tokens.Sub, "given", notice))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var withdrawal = RecordBody(tokens.Sub, "withdrawn", null);
        var first = await AnswerAsync(await RecordAsync(api, "withdraw-1", withdrawal), "withdraw-1", withdrawal);

        var retried = await AnswerAsync(await RecordAsync(api, "withdraw-1", withdrawal), "withdraw-1", withdrawal);
        (await RecordAsync(api, "give-2", RecordBody(tokens.Sub, "given", notice))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var retriedLater = await AnswerAsync(await RecordAsync(api, "withdraw-1", withdrawal), "withdraw-1", withdrawal);

        first.Status.ShouldBe(201, first.Text);
        (retried.Status, retried.Replayed, retried.EventId).ShouldBe((200, true, first.EventId), retried.Text);
        (retriedLater.Status, retriedLater.Replayed, retriedLater.EventId).ShouldBe((200, true, first.EventId), retriedLater.Text);
        (await PulledAsync(api, tokens.Sub, OutboxEventTypes.ConsentWithdrawn)).ShouldBe([first.EventId!.Value]);
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("reason").GetString().ShouldBe("given", "the retry recorded nothing");
    }

    [Fact]
    public async Task Record_TwoWithdrawalsUnderTwoKeysAtOnce_RecordsOne_AndTheOtherIsAConflict()
    {
        var partner = await RegisterAsync("race-keys-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        (await RecordAsync(api, "give-first", RecordBody(tokens.Sub, "given", await NoticeAsync("research", "fr")))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var withdrawal = RecordBody(tokens.Sub, "withdrawn", null);

        var answers = await RaceAsync(api, [("withdraw-a", withdrawal), ("withdraw-b", withdrawal)]);

        var winner = answers.Single(a => a.Status == 201);
        var loser = answers.Single(a => a.Status != 201);
        (loser.Status, loser.Code).ShouldBeOneOf([(409, "state_changed"), (409, "not_given")], Describe(answers));
        var retried = await AnswerAsync(await RecordAsync(api, loser.Key, withdrawal), loser.Key, withdrawal);
        (retried.Status, retried.Code).ShouldBe((409, "not_given"), "the refused request kept nothing under its key: " + retried.Text);
        (await PulledAsync(api, tokens.Sub, OutboxEventTypes.ConsentWithdrawn)).ShouldBe([winner.EventId!.Value]);
    }

    [Fact]
    public async Task Record_AGivenCollectedBeforeTheWithdrawalThatStands_IsRefused_AndTheWithdrawalStands()
    {
        var partner = await RegisterAsync("late-give-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var api = Api(partner);
        var notice = await NoticeAsync("research", "fr");
        var collectedBeforeTheWithdrawal = DateTimeOffset.UtcNow.AddSeconds(-1);
        await WithdrawOnAccountAsync(patient, partner, "research");
        var withdrawal = await CheckAsync(api, tokens.Sub, "research");

        // The partner posts late a consent its app collected before the patient withdrew here.
        var late = await RecordAsync(api, "late-1", RecordBody(tokens.Sub, "given", notice, collectedAt: collectedBeforeTheWithdrawal));
        var retried = await RecordAsync(api, "late-1", RecordBody(tokens.Sub, "given", notice, collectedAt: collectedBeforeTheWithdrawal));
        var collectedAfter = await RecordAsync(api, "later-1", RecordBody(tokens.Sub, "given", notice, collectedAt: DateTimeOffset.UtcNow));

        await ShouldBeProblemAsync(late, 409, "outdated_decision");
        await ShouldBeProblemAsync(retried, 409, "outdated_decision");
        withdrawal.GetProperty("reason").GetString().ShouldBe("withdrawn");
        collectedAfter.StatusCode.ShouldBe(HttpStatusCode.Created, "a consent collected after the withdrawal is a new decision");
        (await PulledAsync(api, tokens.Sub, OutboxEventTypes.ConsentGiven)).Count.ShouldBe(2, "the consent screen's and the one collected after; none for the late one");
    }

    [Fact]
    public async Task Record_AWithdrawalCollectedAMomentBeforeTheConsentScreensConsent_IsRecorded_AClockBehindOursStopsProcessingAnyway()
    {
        var partner = await RegisterAsync("skew-wd-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var api = Api(partner);

        // The partner's clock is 30 s behind ours: its withdrawal looks older than the consent the patient just gave here.
        var withdrawn = await RecordAsync(api, "skew-1", RecordBody(tokens.Sub, "withdrawn", null, collectedAt: DateTimeOffset.UtcNow.AddSeconds(-30)));

        withdrawn.StatusCode.ShouldBe(HttpStatusCode.Created, await withdrawn.Content.ReadAsStringAsync());
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("reason").GetString().ShouldBe("withdrawn");
        (await IntrospectAsync(api, tokens.Access)).ShouldBeFalse();
    }

    [Fact]
    public async Task Record_RetriedAfterThePatientsConsentsWereErased_Is410_AndRecordsNothingAgain()
    {
        var partner = await RegisterAsync("erased-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        var body = RecordBody(tokens.Sub, "given", await NoticeAsync("research", "fr"));
        (await RecordAsync(api, "erase-1", body)).StatusCode.ShouldBe(HttpStatusCode.Created);
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var subjectId = await SubjectIdAsync(scope.ServiceProvider, partner, tokens.Sub);
            await scope.ServiceProvider.GetRequiredService<ILedgerRedaction>().RedactSubjectAsync(subjectId, CancellationToken.None);
        }

        var retried = await RecordAsync(api, "erase-1", body);

        await ShouldBeProblemAsync(retried, 410, "request_erased");
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("reason").GetString().ShouldBe("no_consent", "the retry recorded nothing");
    }

    [Fact]
    public async Task Record_RefusedWhileAConsentStands_IsAConflict_TheConsentAndItsTokensStand()
    {
        var partner = await RegisterAsync("refuse-over-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var api = Api(partner);

        var refused = await RecordAsync(api, "refuse-1", RecordBody(tokens.Sub, "refused", await NoticeAsync("research", "fr")));

        // Recorded as a refusal, the end of a standing consent would skip the withdrawal's revocations, logout and SET.
        await ShouldBeProblemAsync(refused, 409, "consent_stands");
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("reason").GetString().ShouldBe("given");
        (await IntrospectAsync(api, tokens.Access)).ShouldBeTrue();
    }

    [Fact]
    public async Task APartner_SeesOnlyItsOwnSubjectsAndConsents()
    {
        var first = await RegisterAsync("own-a-");
        var second = await RegisterAsync("own-b-");
        using var patient = Browser();
        var atFirst = await SignInWithResearchAsync(patient, first);
        using var firstApi = Api(first);
        using var secondApi = Api(second);

        var foreignSub = await PostJsonAsync(secondApi, "/partner/v1/consents/check", $$"""{"sub":"{{atFirst.Sub}}","purpose":"research"}""");
        var randomSub = await PostJsonAsync(secondApi, "/partner/v1/consents/check", """{"sub":"never-issued","purpose":"research"}""");
        var record = await RecordAsync(secondApi, "k", RecordBody(atFirst.Sub, "withdrawn", null));

        await ShouldBeProblemAsync(foreignSub, 404, "unknown_subject");
        await ShouldBeProblemAsync(randomSub, 404, "unknown_subject");
        await ShouldBeProblemAsync(record, 404, "unknown_subject");
        (await CheckAsync(firstApi, atFirst.Sub, "research")).GetProperty("allowed").GetBoolean().ShouldBeTrue("the other partner changed nothing");
    }

    [Fact]
    public async Task APayer_IsRefusedACarePurpose_AtRegistrationAtConsentAndInEveryAnswer()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<ClientAdministration>();
        var payerId = "payer-" + Guid.NewGuid().ToString("N")[..8];
        using var webhook = Listen("hook", out var hookUrl);
        ClientRequest Payer(string[] scopes) => new(payerId, "Mutuelle", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{payerId}.example/cb"], [],
            scopes, ["authorization_code"], ControllerName: "Mutuelle SA", DpoContact: "mailto:dpo@mutuelle.example", NoticeUrl: "https://mutuelle.example/privacy",
            Kind: ClientKinds.Payer, WebhookUrl: hookUrl);

        var refused = await Should.ThrowAsync<ClientRegistrationException>(() => administration.AddAsync(Payer(["openid", "research"]), CancellationToken.None));
        refused.Message.ShouldContain("scope 'research': a payer or insurer is never granted a care or special-category purpose");
        var payer = await administration.AddAsync(Payer(["openid", "newsletter"]), CancellationToken.None);
        payer.Client.Kind.ShouldBe(ClientKinds.Payer);

        // The ledger refuses it too, whatever the caller: the consent screen, or a partner recording.
        using var patient = Browser();
        var atPayer = await SignInAsync(patient, new RegisteredPartner(payerId, payer.Secret!), "openid newsletter", new() { ["purpose:newsletter"] = "yes" });
        var subjectId = await SubjectIdAsync(scope.ServiceProvider, new RegisteredPartner(payerId, payer.Secret!), atPayer.Sub);
        var ledger = scope.ServiceProvider.GetRequiredService<IConsentLedger>();
        var notice = scope.ServiceProvider.GetRequiredService<PolicySet>().FindPurpose("research")!.CurrentNotice(DateTimeOffset.UtcNow)!.Version;
        var direct = await Should.ThrowAsync<ConsentLedgerException>(() => ledger.AppendAsync(
            [new ConsentEventDraft(subjectId, payerId, "research", ConsentState.Given, notice, "fr", ConsentMethods.ConsentScreen, "data-subject", DateTimeOffset.UtcNow)],
            CancellationToken.None));
        direct.Code.ShouldBe("purpose_not_allowed");

        // Asked about a care or special-category purpose, the payer gets the answer of a purpose that does not exist.
        using var api = Api(new RegisteredPartner(payerId, payer.Secret!));
        var research = await PostJsonAsync(api, "/partner/v1/consents/check", $$"""{"sub":"{{atPayer.Sub}}","purpose":"research"}""");
        var care = await PostJsonAsync(api, "/partner/v1/consents/check", $$"""{"sub":"{{atPayer.Sub}}","purpose":"care"}""");
        var nonexistent = await PostJsonAsync(api, "/partner/v1/consents/check", $$"""{"sub":"{{atPayer.Sub}}","purpose":"no-such-purpose"}""");
        var recordResearch = await RecordAsync(api, "k1", RecordBody(atPayer.Sub, "given", await NoticeAsync("research", "fr"), "research"));
        var researchBody = await research.Content.ReadAsStringAsync();
        var careBody = await care.Content.ReadAsStringAsync();
        var nonexistentBody = await nonexistent.Content.ReadAsStringAsync();
        var recordBody = await recordResearch.Content.ReadAsStringAsync();

        foreach (var (response, text) in new[] { (research, researchBody), (care, careBody), (nonexistent, nonexistentBody), (recordResearch, recordBody) })
        {
            ((int)response.StatusCode).ShouldBe(404);
            JsonDocument.Parse(text).RootElement.GetProperty("code").GetString().ShouldBe("unknown_purpose");
            text.ShouldNotContain("research");
            text.ShouldNotContain("care");
            text.ShouldNotContain("provision");
        }

        // What the payer legitimately gets names no care or special-category purpose either.
        var newsletter = await CheckAsync(api, atPayer.Sub, "newsletter");
        newsletter.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        atPayer.Raw.ShouldNotContain("research");
        var pulled = await api.GetAsync("/partner/v1/events");
        var events = await pulled.Content.ReadAsStringAsync();
        pulled.StatusCode.ShouldBe(HttpStatusCode.OK, events);
        events.ShouldContain("\"purpose\":\"newsletter\"");

        // And what is pushed to it: each event's SET, decoded.
        var pushedSets = new List<string>();
        foreach (var jti in JsonDocument.Parse(events).RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("jti").GetGuid()))
        {
            var delivering = Task.Run(async () =>
            {
                await using var deliveryScope = _factory.Services.CreateAsyncScope();
                await deliveryScope.ServiceProvider.GetServices<Compliance.Jobs.Work.IDueWork>().Single(w => w.Kind == "consent.webhook").RunAsync(jti, CancellationToken.None);
            });
            var pushed = await webhook.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30));
            using var pushedBody = new StreamReader(pushed.Request.InputStream);
            var set = new JsonWebToken(await pushedBody.ReadToEndAsync());
            pushed.Response.StatusCode = 202;
            pushed.Response.Close();
            await delivering;
            pushedSets.Add(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(set.EncodedPayload)));
        }

        pushedSets.ShouldNotBeEmpty();
        // (The token response is scanned above for the purpose's name only: its base64 tokens are long enough to hold
        // a four-letter word by chance.)
        foreach (var received in pushedSets.Append(events))
        {
            foreach (var forbidden in new[] { "research", "care", "provision", "teleconsultation" })
            {
                received.ShouldNotContain(forbidden);
            }
        }
    }

    [Fact]
    public async Task AClientHoldingAScopeNowForbiddenToItsKind_GetsNoTokenForIt_HearsNothingOfIt_AndThePatientCanStillWithdraw()
    {
        // What a policy change reclassifying a payer's purpose as special-category leaves: a payer holding such a scope,
        // with a refresh token, a code obtained before, and consent events in its feed. Here the client's kind changes
        // instead, to the same effect.
        using var webhook = Listen("hook", out var hookUrl);
        var partner = await RegisterAsync("reclass-", webhookUrl: hookUrl);
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var second = Browser();
        var html = await PurposeConsentSteps.ConsentPageAsync(second, partner.ClientId, "openid offline_access research", null);
        var decided = await PurposeConsentSteps.DecideAsync(second, html, "allow", new() { ["purpose:research"] = "yes", ["offline_access"] = "yes" });
        var code = Uri.UnescapeDataString(decided.Headers.Location!.OriginalString.Split("code=")[1].Split('&')[0]);
        await StoreSql.ExecuteAsync(stores.Compliance, $"UPDATE oidc_clients SET kind = 'payer' WHERE client_id = '{partner.ClientId}'");
        _factory.Services.GetRequiredService<Microsoft.Extensions.Caching.Memory.IMemoryCache>().Remove(("oidc-client", partner.ClientId));
        using var api = Api(partner);

        var refreshed = await api.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.Refresh,
        }));
        var exchanged = await api.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = $"https://{partner.ClientId}.example/cb", ["code_verifier"] = Verifier,
        }));
        var authorize = await patient.GetAsync(PurposeConsentSteps.Authorize(partner.ClientId, "openid research"));

        ((int)refreshed.StatusCode).ShouldBe(400);
        JsonDocument.Parse(await refreshed.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().ShouldBe("invalid_grant");
        ((int)exchanged.StatusCode).ShouldBe(400);
        JsonDocument.Parse(await exchanged.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().ShouldBe("invalid_grant");
        (await IntrospectAsync(api, tokens.Access)).ShouldBeFalse("the refused refresh revoked the family its access token belongs to");
        authorize.Headers.Location!.OriginalString.ShouldContain("error=invalid_scope");

        // Nothing it is sent names the purpose any more: not the feed, not the push of an event written before.
        var given = await StoreSql.ScalarAsync(stores.Compliance,
            $"SELECT event_id FROM consent_outbox WHERE client_id = '{partner.ClientId}' AND purpose_id = 'research' AND event_type = 'consent.given' ORDER BY leaf_index LIMIT 1");
        var givenId = given is Guid guid ? guid : Guid.Parse((string)given!);
        var pulled = await api.GetAsync("/partner/v1/events");
        var feed = await pulled.Content.ReadAsStringAsync();
        pulled.StatusCode.ShouldBe(HttpStatusCode.OK, feed);
        feed.ShouldNotContain("research");
        var receiving = webhook.GetContextAsync();
        await using (var deliveryScope = _factory.Services.CreateAsyncScope())
        {
            await deliveryScope.ServiceProvider.GetServices<Compliance.Jobs.Work.IDueWork>().Single(w => w.Kind == "consent.webhook").RunAsync(givenId, CancellationToken.None);
        }

        (await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2)))).ShouldNotBe(receiving, "nothing was pushed");
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_outbox WHERE event_id = {SqlId(givenId)}"))
            .ShouldBe(0, "the row is not kept as a failure for operators to retry: it is deleted");

        // The patient can still withdraw it, and that is recorded without a word to the payer.
        var rowsBefore = await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_outbox WHERE client_id = '{partner.ClientId}'");
        await WithdrawOnAccountAsync(patient, partner, "research");
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_states WHERE client_id = '{partner.ClientId}' AND purpose_id = 'research' AND state = 'Withdrawn'"))
            .ShouldBe(1);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM consent_outbox WHERE client_id = '{partner.ClientId}'")).ShouldBe(rowsBefore);
    }

    [Fact]
    public async Task APayer_NeverSharesAPairwiseSectorWithACarePartner_EvenWithSharedSector()
    {
        var partner = await RegisterAsync("sector-");
        await using var scope = _factory.Services.CreateAsyncScope();
        var payerId = "payer-" + Guid.NewGuid().ToString("N")[..8];

        var refused = await Should.ThrowAsync<ClientRegistrationException>(() => scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(payerId, "Mutuelle", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{partner.ClientId}.example/payer"], [],
                ["openid", "newsletter"], ["authorization_code"], ControllerName: "Mutuelle SA", DpoContact: "mailto:dpo@mutuelle.example",
                NoticeUrl: "https://mutuelle.example/privacy", Kind: ClientKinds.Payer, SharedSector: true),
            CancellationToken.None));

        refused.Message.ShouldContain("a payer or insurer never shares a sector");
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT COUNT(*) FROM oidc_clients WHERE client_id = '{payerId}'")).ShouldBe(0);
    }

    [Theory]
    [InlineData("none", "application/json", """{"sub":"x","purpose":"research"}""", 401, "invalid_client")]
    [InlineData("patient", "application/json", """{"sub":"x","purpose":"research"}""", 401, "invalid_client")]
    [InlineData("basic", "text/plain", """{"sub":"x","purpose":"research"}""", 415, "unsupported_media_type")]
    [InlineData("basic", "application/json", "{\"sub\":", 400, "invalid_request")]
    [InlineData("basic", "application/json", "[1,2]", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":"x","purpose":"research","extra":1}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":"x"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", "OVERSIZED", 413, "body_too_large")]
    [InlineData("basic", "application/json", """{"sub":"x","purpose":"care"}""", 400, "not_consent_based")]
    [InlineData("basic", "application/json", """{"sub":"x","purpose":"no-such"}""", 404, "unknown_purpose")]
    [InlineData("basic", "application/json", """{"sub":"a\u0000b","purpose":"research"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":"\ud800","purpose":"research"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":"x","purpose":"research\u0000"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":"x","purpose":"\udfff"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", """{"sub":123,"purpose":"research"}""", 400, "invalid_request")]
    [InlineData("basic", "application/json", "null", 400, "invalid_request")]
    public async Task Check_HostileInput_GetsAClearProblem(string auth, string contentType, string body, int status, string code)
    {
        var partner = await RegisterAsync("hostile-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner);
        using var api = auth == "none" ? _factory.CreateClient() : Api(partner);
        if (auth == "patient")
        {
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Access);
        }

        var content = body == "OVERSIZED" ? $$"""{"sub":"{{new string('x', 9000)}}","purpose":"research"}""" : body;
        var response = await api.PostAsync("/partner/v1/consents/check", new StringContent(content, Encoding.UTF8, contentType));

        await ShouldBeProblemAsync(response, status, code);
        if (status == 401)
        {
            response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
        }
    }

    [Theory]
    [InlineData(null, 400, "idempotency_key_required")]
    [InlineData("bad key with spaces", 400, "idempotency_key_required")]
    [InlineData("future", 400, "invalid_request")]
    [InlineData("old", 400, "invalid_request")]
    [InlineData("hash", 422, "notice_mismatch")]
    [InlineData("version", 422, "unknown_notice")]
    [InlineData("decision", 400, "invalid_request")]
    [InlineData("withdraw-nothing", 409, "not_given")]
    [InlineData("oversized", 413, "body_too_large")]
    [InlineData("method", 400, "invalid_request")]
    [InlineData("nul-sub", 400, "invalid_request")]
    [InlineData("surrogate-reference", 400, "invalid_request")]
    [InlineData("nul-reference", 400, "invalid_request")]
    public async Task Record_HostileInput_GetsAClearProblem_AndRecordsNothing(string? variant, int status, string code)
    {
        var partner = await RegisterAsync("hostile-rec-");
        using var patient = Browser();
        var tokens = await SignInWithResearchAsync(patient, partner, research: false);
        using var api = Api(partner);
        var notice = await NoticeAsync("research", "fr");
        var body = variant switch
        {
            "future" => RecordBody(tokens.Sub, "given", notice, collectedAt: DateTimeOffset.UtcNow.AddHours(1)),
            "old" => RecordBody(tokens.Sub, "given", notice, collectedAt: DateTimeOffset.UtcNow.AddDays(-30)),
            "hash" => RecordBody(tokens.Sub, "given", notice with { Sha256 = new string('0', 64) }),
            "version" => RecordBody(tokens.Sub, "given", notice with { Version = "1999-01" }),
            "decision" => RecordBody(tokens.Sub, "maybe", notice),
            "withdraw-nothing" => RecordBody(tokens.Sub, "withdrawn", null),
            "method" => RecordBody(tokens.Sub, "given", notice).Replace("\"app-checkbox\"", "\"App Checkbox!\"", StringComparison.Ordinal),
            "nul-sub" => RecordBody(tokens.Sub + "\u0000", "given", notice),
            "surrogate-reference" => RecordBody(tokens.Sub, "given", notice).Replace("\"ref-1\"", "\"ref-\\ud800\"", StringComparison.Ordinal),
            "nul-reference" => RecordBody(tokens.Sub, "given", notice).Replace("\"ref-1\"", "\"ref-\\u0000\"", StringComparison.Ordinal),
            "oversized" => RecordBody(tokens.Sub, "given", notice).Replace("\"ref-1\"", $"\"{new string('r', 9000)}\"", StringComparison.Ordinal),
            _ => RecordBody(tokens.Sub, "given", notice),
        };
        var before = await CheckAsync(api, tokens.Sub, "research");

        var response = await RecordAsync(api, variant switch { null => null, "bad key with spaces" => variant, _ => "k-" + variant }, body);

        await ShouldBeProblemAsync(response, status, code);
        (await CheckAsync(api, tokens.Sub, "research")).GetProperty("event_id").GetGuid().ShouldBe(before.GetProperty("event_id").GetGuid(), "nothing was recorded");
    }

    private string SqlId(Guid id) => stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";

    private static async Task WithdrawOnAccountAsync(PatientBrowser patient, RegisteredPartner partner, string purpose)
    {
        var html = await (await patient.GetAsync("/account")).Content.ReadAsStringAsync();
        var withdrawn = await patient.PostFormAsync("/account/consents/withdraw", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["client_id"] = partner.ClientId,
            ["purpose_id"] = purpose,
        });
        ((int)withdrawn.StatusCode).ShouldBe(302);
    }

    private sealed record RegisteredPartner(string ClientId, string Secret);

    private sealed record Tokens(string Access, string Refresh, string Sub, string Raw);

    private sealed record Notice(string Version, string Sha256);

    private async Task<RegisteredPartner> RegisterAsync(string prefix, string? backchannel = null, string? webhookUrl = null)
    {
        var clientId = prefix + Guid.NewGuid().ToString("N")[..8];
        await using var scope = _factory.Services.CreateAsyncScope();
        var registered = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Clinique", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [],
                ["openid", "offline_access", "research", "newsletter"], ["authorization_code", "refresh_token"], BackchannelLogoutUri: backchannel,
                ControllerName: "Clinique Exemple SAS", DpoContact: "mailto:dpo@clinique.example", NoticeUrl: "https://clinique.example/privacy",
                WebhookUrl: webhookUrl),
            CancellationToken.None);
        return new RegisteredPartner(clientId, registered.Secret!);
    }

    // An unticked box is an absent field, as a browser sends it.
    private Task<Tokens> SignInWithResearchAsync(PatientBrowser patient, RegisteredPartner partner, bool research = true) =>
        SignInAsync(patient, partner, "openid offline_access research newsletter",
            research ? new() { ["purpose:research"] = "yes", ["offline_access"] = "yes" } : new() { ["offline_access"] = "yes" });

    /// <summary>Signs a new patient up through the partner's consent screen and exchanges the code.</summary>
    private async Task<Tokens> SignInAsync(PatientBrowser patient, RegisteredPartner partner, string scope, Dictionary<string, string> choices)
    {
        var html = await PurposeConsentSteps.ConsentPageAsync(patient, partner.ClientId, scope, null);
        var decided = await PurposeConsentSteps.DecideAsync(patient, html, "allow", choices);
        var code = Uri.UnescapeDataString(decided.Headers.Location!.OriginalString.Split("code=")[1].Split('&')[0]);
        using var api = Api(partner);
        var response = await api.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = $"https://{partner.ClientId}.example/cb",
            ["code_verifier"] = Verifier,
        }));
        var raw = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, raw);
        var json = JsonDocument.Parse(raw).RootElement;
        var sub = new JsonWebToken(json.GetProperty("id_token").GetString()).Subject;
        return new Tokens(json.GetProperty("access_token").GetString()!, json.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString()! : "", sub, raw);
    }

    private HttpClient Api(RegisteredPartner partner)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(partner.ClientId)}:{Uri.EscapeDataString(partner.Secret)}")));
        return client;
    }

    private static async Task<bool> IntrospectAsync(HttpClient api, string token)
    {
        var response = await api.PostAsync("/connect/introspect", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("active").GetBoolean();
    }

    private static async Task<JsonElement> CheckAsync(HttpClient api, string sub, string purpose)
    {
        var response = await PostJsonAsync(api, "/partner/v1/consents/check", JsonSerializer.Serialize(new { sub, purpose }));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        return JsonDocument.Parse(text).RootElement;
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient api, string path, string json) =>
        api.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> RecordAsync(HttpClient api, string? key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/partner/v1/consents") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return api.SendAsync(request);
    }

    private static string RecordBody(string sub, string decision, Notice? notice, string purpose = "research", DateTimeOffset? collectedAt = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["sub"] = sub,
            ["purpose"] = purpose,
            ["decision"] = decision,
            ["notice_version"] = notice?.Version,
            ["notice_sha256"] = notice?.Sha256,
            ["language"] = "fr",
            ["collected_at"] = (collectedAt ?? DateTimeOffset.UtcNow).ToString("O"),
            ["reference"] = "ref-1",
            ["collection_method"] = "app-checkbox",
        });

    // Enough requests at once for some to meet in one group commit and others to arrive just after it.
    private const int Racers = 16;

    private sealed record Answer(string Key, string Body, int Status, string? Code, Guid? EventId, bool Replayed, string Text);

    /// <summary>Sends every request at the same moment, as retries of a client that lost its answers would arrive.</summary>
    private static async Task<List<Answer>> RaceAsync(HttpClient api, IEnumerable<(string Key, string Body)> requests)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = requests.Select(r => Task.Run(async () =>
        {
            await start.Task;
            return await AnswerAsync(await RecordAsync(api, r.Key, r.Body), r.Key, r.Body);
        })).ToList();
        start.SetResult();
        return [.. await Task.WhenAll(racing)];
    }

    private static async Task<Answer> AnswerAsync(HttpResponseMessage response, string key, string body)
    {
        var text = await response.Content.ReadAsStringAsync();
        var json = text.StartsWith('{') ? JsonDocument.Parse(text).RootElement : default;
        return new Answer(key, body, (int)response.StatusCode,
            json.ValueKind == JsonValueKind.Object && json.TryGetProperty("code", out var code) ? code.GetString() : null,
            json.ValueKind == JsonValueKind.Object && json.TryGetProperty("event_id", out var eventId) ? eventId.GetGuid() : null,
            response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.SequenceEqual(["true"]),
            text);
    }

    /// <summary>One answer recorded (201), every other one the same event replayed (200, Idempotent-Replayed); its event id.</summary>
    private static Guid ShouldBeOneRecordedAndReplays(List<Answer> answers)
    {
        var description = Describe(answers);
        answers.Count(a => a.Status == 201).ShouldBe(1, description);
        answers.Where(a => a.Status != 201).ShouldAllBe(a => a.Status == 200 && a.Replayed, description);
        answers.Single(a => a.Status == 201).Replayed.ShouldBeFalse(description);
        answers.Select(a => a.EventId).Distinct().ShouldHaveSingleItem(description).ShouldNotBeNull();
        return answers[0].EventId!.Value;
    }

    private static string Describe(List<Answer> answers) =>
        string.Join(" | ", answers.GroupBy(a => $"{a.Status} {a.Code ?? (a.Replayed ? "replayed" : "")}").Select(g => $"{g.Count()} x {g.Key}"))
        + " | first refusal: " + answers.FirstOrDefault(a => a.Status >= 400)?.Text;

    /// <summary>The ids of the events of one type the partner pulls for this sub and research, as its own feed shows them.</summary>
    private static async Task<List<Guid>> PulledAsync(HttpClient api, string sub, string type)
    {
        var response = await api.GetAsync($"/partner/v1/events?limit={Racers * 4}");
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("sub").GetString() == sub && e.GetProperty("purpose").GetString() == "research" && e.GetProperty("type").GetString() == type)
            .Select(e => e.GetProperty("jti").GetGuid())];
    }

    private async Task<Notice> NoticeAsync(string purposeId, string language)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var notice = scope.ServiceProvider.GetRequiredService<PolicySet>().FindPurpose(purposeId)!.CurrentNotice(DateTimeOffset.UtcNow)!;
        return new Notice(notice.Version, notice.In(language)!.Sha256);
    }

    private static async Task<Guid> SubjectIdAsync(IServiceProvider services, RegisteredPartner partner, string sub)
    {
        var client = await services.GetRequiredService<IPartnerDirectory>().FindAsync(partner.ClientId, CancellationToken.None);
        return (await services.GetRequiredService<Compliance.Oidc.Subjects.IPairwiseSubjects>().ResolveAsync(client!.Sector, sub, CancellationToken.None))!.Value;
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonDocument.Parse(text).RootElement.GetProperty("code").GetString().ShouldBe(code);
    }

    private PatientBrowser Browser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));

    /// <summary>A real HTTP listener on a free loopback port (never 5080), as a partner's endpoint.</summary>
    private static HttpListener Listen(string path, out string url)
    {
        url = $"http://127.0.0.1:{FreePort()}/{path}/";
        var listener = new HttpListener();
        listener.Prefixes.Add(url);
        listener.Start();
        return listener;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

public sealed class PartnerConsentApiTests_Sqlite(SqliteStores stores) : PartnerConsentApiTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PartnerConsentApiTests_Postgres(PostgresStores stores) : PartnerConsentApiTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
