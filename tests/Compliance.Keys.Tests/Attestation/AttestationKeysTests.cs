using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Keys.Attestation;
using Compliance.Keys.Encryption;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Compliance.Keys.Tests.Attestation.AttestationTestPayloads;

namespace Compliance.Keys.Tests.Attestation;

public abstract class AttestationKeysTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly KeysNodes _nodes = new(stores);

    private FakeTimeProvider Time => _nodes.Time;

    public async Task InitializeAsync() => await _nodes.ClearStoreAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task SignAsync_VerifiedOfflineWithOnlyThePublishedKeySet_ReturnsThePayload()
    {
        var keys = Keys(_nodes.Node());
        var payload = At(Time.GetUtcNow());

        var signature = await keys.SignAsync(ReceiptType, payload, CancellationToken.None);
        var keySet = AttestationVerifier.KeySetJson(await keys.AllAsync(CancellationToken.None));
        var check = AttestationVerifier.Verify(signature.Jws, AttestationVerifier.ParseKeySet(keySet), ReceiptType, SignedAt);

        check.Valid.ShouldBeTrue(check.Refusal);
        check.KeyId.ShouldBe(signature.KeyId);
        check.Payload.ShouldBe(payload);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(signature.Jws.Split('.')[0]));
        header.RootElement.GetProperty("alg").GetString().ShouldBe("ES256");
        header.RootElement.GetProperty("kid").GetString().ShouldBe(signature.KeyId);
        header.RootElement.GetProperty("typ").GetString().ShouldBe(ReceiptType);
    }

    [Fact]
    public async Task SignAsync_ForAnotherType_IsRefusedByAVerifierExpectingThisOne()
    {
        var keys = Keys(_nodes.Node());
        var signature = await keys.SignAsync("consent-checkpoint+jws", At(Time.GetUtcNow()), CancellationToken.None);

        var check = AttestationVerifier.Verify(signature.Jws, await keys.AllAsync(CancellationToken.None), ReceiptType, SignedAt);

        check.Valid.ShouldBeFalse();
        check.Refusal.ShouldNotBeNull().ShouldContain("type");
    }

    [Theory]
    [InlineData("", 10)]
    [InlineData("consent receipt", 10)]
    [InlineData("receipt\"}", 10)]
    [InlineData("consent-receipt+jws", AttestationKeyRing.MaxPayloadBytes + 1)]
    public async Task SignAsync_MalformedTypeOrOversizedPayload_IsRefusedAndCreatesNoKey(string type, int payloadBytes)
    {
        var keys = Keys(_nodes.Node());

        await Should.ThrowAsync<ArgumentException>(() => keys.SignAsync(type, new byte[payloadBytes], CancellationToken.None));

        (await _nodes.AttestationKeysAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task SignAsync_LargestPayload_StillVerifies()
    {
        var keys = Keys(_nodes.Node());
        var payload = Encoding.UTF8.GetBytes("{\"at\":\"2030-01-15T09:30:00Z\",\"pad\":\"" + new string('x', AttestationKeyRing.MaxPayloadBytes - 40) + "\"}");

        var signature = await keys.SignAsync(ReceiptType, payload, CancellationToken.None);

        payload.Length.ShouldBeLessThanOrEqualTo(AttestationKeyRing.MaxPayloadBytes);
        AttestationVerifier.Verify(signature.Jws, await keys.AllAsync(CancellationToken.None), ReceiptType, SignedAt).Valid.ShouldBeTrue();
    }

    [Fact]
    public async Task RotateAsync_OldSignature_StillVerifiesWithTheNewKeySetAndTheNewKeySigns()
    {
        var keys = Keys(_nodes.Node());
        var payload = At(Time.GetUtcNow());
        var old = await keys.SignAsync(ReceiptType, payload, CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));

        var rotated = await keys.RotateAsync(CancellationToken.None);
        var fresh = await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        var keySet = AttestationVerifier.ParseKeySet(AttestationVerifier.KeySetJson(await keys.AllAsync(CancellationToken.None)));

        AttestationVerifier.Verify(old.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
        AttestationVerifier.Verify(fresh.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
        fresh.KeyId.ShouldBe(rotated.KeyId);
        fresh.KeyId.ShouldNotBe(old.KeyId);
        keySet.Select(k => (k.KeyId, Retired: k.RetiredAt is not null)).ShouldBe([(old.KeyId, true), (rotated.KeyId, false)]);
        var rows = await _nodes.AttestationKeysAsync();
        rows[0].WrappedPrivateKey.ShouldBeNull("the retired key's private key is destroyed");
        rows[0].KekId.ShouldBeNull();
        rows[1].WrappedPrivateKey.ShouldNotBeNull();
    }

    [Fact]
    public async Task Verify_SignedAtAtOrAfterRetirement_IsRefused()
    {
        var keys = Keys(_nodes.Node());
        var now = Time.GetUtcNow();

        // A key signs whatever time the caller writes: these claim times around its coming retirement.
        var before = await keys.SignAsync(ReceiptType, At(now), CancellationToken.None);
        var afterRetirement = await keys.SignAsync(ReceiptType, At(now.AddMinutes(10)), CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        await keys.RotateAsync(CancellationToken.None);
        var keySet = await keys.AllAsync(CancellationToken.None);
        var retiredAt = keySet[0].RetiredAt.ShouldNotBeNull();
        var atRetirement = await keys.SignAsync(ReceiptType, At(retiredAt), CancellationToken.None);

        AttestationVerifier.Verify(before.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
        var refused = AttestationVerifier.Verify(afterRetirement.Jws, keySet, ReceiptType, SignedAt);
        refused.Valid.ShouldBeFalse();
        refused.Refusal.ShouldNotBeNull().ShouldContain("retired");
        atRetirement.KeyId.ShouldNotBe(before.KeyId, "the retired key no longer signs");
        retiredAt.ShouldBeGreaterThan(Time.GetUtcNow(), "other nodes may sign with it until their next refresh");
    }

    [Fact]
    public async Task Verify_CompromisedKey_RefusesSignaturesFromThatTimeAndKeepsEarlierOnes()
    {
        var keys = Keys(_nodes.Node());
        var start = Time.GetUtcNow();
        var mark = DateTimeOffset.FromUnixTimeSeconds(start.AddMinutes(30).ToUnixTimeSeconds());
        var early = await keys.SignAsync(ReceiptType, At(start), CancellationToken.None);
        var justBefore = await keys.SignAsync(ReceiptType, At(mark.AddTicks(-1)), CancellationToken.None);
        var atMark = await keys.SignAsync(ReceiptType, At(mark), CancellationToken.None);
        var late = await keys.SignAsync(ReceiptType, At(start.AddHours(1)), CancellationToken.None);
        Time.Advance(TimeSpan.FromHours(2));

        var marked = await keys.MarkCompromisedAsync(early.KeyId, start.AddMinutes(30), CancellationToken.None);
        var keySet = AttestationVerifier.ParseKeySet(AttestationVerifier.KeySetJson(await keys.AllAsync(CancellationToken.None)));

        marked.CompromisedFrom.ShouldBe(mark, "truncated to the second");
        AttestationVerifier.Verify(early.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
        AttestationVerifier.Verify(justBefore.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
        foreach (var voided in new[] { atMark, late })
        {
            var check = AttestationVerifier.Verify(voided.Jws, keySet, ReceiptType, SignedAt);
            check.Valid.ShouldBeFalse();
            check.Refusal.ShouldNotBeNull().ShouldContain("compromised");
        }
    }

    [Fact]
    public async Task SignAsync_SixNodesSigningTheFirstTimeAtOnce_CreateOneKey()
    {
        var nodes = Enumerable.Range(0, 6).Select(_ => Keys(_nodes.Node())).ToList();

        var signatures = await Task.WhenAll(nodes.Select(n => Task.Run(() => n.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None))));

        var rows = await _nodes.AttestationKeysAsync();
        rows.ShouldHaveSingleItem();
        signatures.Select(s => s.KeyId).Distinct().ShouldBe([rows[0].KeyId]);
        (await AuditAsync(AuditEventTypes.AttestationKeyCreated)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Store_SecondCurrentKey_IsRefusedByTheSchemaWhileRetiredOnesPileUp()
    {
        var keys = Keys(_nodes.Node());
        await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        var row = (await _nodes.AttestationKeysAsync()).ShouldHaveSingleItem();
        AttestationKeyRecord Copy(string kid, DateTimeOffset? retiredAt) => new()
        {
            KeyId = kid, Algorithm = row.Algorithm, PublicJwk = row.PublicJwk, ValidFrom = row.ValidFrom, CreatedAt = row.CreatedAt, RetiredAt = retiredAt,
            KekId = row.KekId, KekAlgorithm = row.KekAlgorithm, WrappedPrivateKey = row.WrappedPrivateKey,
        };

        await _nodes.WithStoreAsync(db =>
        {
            db.AddRange(Copy("retired-1", row.ValidFrom), Copy("retired-2", row.ValidFrom));
            return db.SaveChangesAsync();
        });
        var second = await Should.ThrowAsync<DbUpdateException>(() => _nodes.WithStoreAsync(db =>
        {
            db.Add(Copy("second-current", null));
            return db.SaveChangesAsync();
        }));

        StoreConflicts.IsUniqueViolation(second).ShouldBeTrue(second.InnerException?.Message);
        (await _nodes.AttestationKeysAsync()).Count(r => r.RetiredAt is null).ShouldBe(1);
    }

    [Fact]
    public async Task RotateAsync_TwoNodesAtOnce_MakeOneNewCurrentKeyAndRetireOne()
    {
        var (a, b) = (Keys(_nodes.Node()), Keys(_nodes.Node()));
        var first = await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromDays(1));

        var results = await Task.WhenAll(new[] { a, b }.Select(n => Task.Run(() => n.RotateAsync(CancellationToken.None))));

        var rows = await _nodes.AttestationKeysAsync();
        rows.Count.ShouldBe(2);
        rows.Single(r => r.RetiredAt is not null).KeyId.ShouldBe(first.KeyId);
        var current = rows.Single(r => r.RetiredAt is null);
        results.Select(r => r.KeyId).ShouldAllBe(kid => kid == current.KeyId);
        (await AuditAsync(AuditEventTypes.AttestationKeyRotated)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task SignAsync_KeyOlderThanRotationDays_IsRotatedOnceByTwoNodesSigningAtOnce()
    {
        _nodes.Keys["Keys:Attestation:RotationDays"] = "30";
        var (a, b) = (Keys(_nodes.Node()), Keys(_nodes.Node()));
        var first = await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromDays(29));
        var stillFirst = await b.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromDays(1));

        var signatures = await Task.WhenAll(new[] { a, b }.Select(n => Task.Run(() => n.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None))));

        stillFirst.KeyId.ShouldBe(first.KeyId);
        var rows = await _nodes.AttestationKeysAsync();
        rows.Count.ShouldBe(2);
        signatures.Select(s => s.KeyId).Distinct().ShouldBe([rows[1].KeyId]);
        rows[1].KeyId.ShouldNotBe(first.KeyId);
        var audit = (await AuditAsync(AuditEventTypes.AttestationKeyRotated)).ShouldHaveSingleItem();
        audit.Details.ShouldNotBeNull().ShouldContain("\"reason\":\"age\"");
        var keySet = await a.AllAsync(CancellationToken.None);
        signatures.ShouldAllBe(s => AttestationVerifier.Verify(s.Jws, keySet, ReceiptType, SignedAt).Valid);
    }

    [Fact]
    public async Task SignAsync_KeyRotatedOnAnotherNode_KeepsSigningVerifiablyUntilItsRefreshThenUsesTheNewKey()
    {
        var (a, b) = (Keys(_nodes.Node()), Keys(_nodes.Node()));
        await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(11));
        var cached = await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);

        var rotated = await b.RotateAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(9));
        var stale = await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(1));
        var refreshed = await a.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);

        stale.KeyId.ShouldBe(cached.KeyId, "a node reads the store at most every 10 s");
        refreshed.KeyId.ShouldBe(rotated.KeyId);
        var keySet = await b.AllAsync(CancellationToken.None);
        AttestationVerifier.Verify(stale.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue("the retired key stays valid while other nodes may still hold it");
        AttestationVerifier.Verify(refreshed.Jws, keySet, ReceiptType, SignedAt).Valid.ShouldBeTrue();
    }

    [Fact]
    public async Task MarkCompromisedAsync_CurrentKey_IsReplacedFirstAndAuditedWithKidsAndTimesOnly()
    {
        var keys = Keys(_nodes.Node());
        var compromised = await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);
        Time.Advance(TimeSpan.FromHours(1));

        await keys.MarkCompromisedAsync(compromised.KeyId, Time.GetUtcNow().AddMinutes(-10), CancellationToken.None);
        var next = await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);

        next.KeyId.ShouldNotBe(compromised.KeyId);
        var rows = await _nodes.AttestationKeysAsync();
        var old = rows.Single(r => r.KeyId == compromised.KeyId);
        old.RetiredAt.ShouldNotBeNull();
        old.WrappedPrivateKey.ShouldBeNull();
        old.CompromisedFrom.ShouldNotBeNull();
        var rotation = (await AuditAsync(AuditEventTypes.AttestationKeyRotated)).ShouldHaveSingleItem();
        rotation.Details.ShouldNotBeNull().ShouldContain("\"reason\":\"compromise\"");
        var mark = (await AuditAsync(AuditEventTypes.AttestationKeyCompromised)).ShouldHaveSingleItem();
        using var details = JsonDocument.Parse(mark.Details!);
        details.RootElement.EnumerateObject().Select(p => p.Name).ShouldBe(["kid", "compromised_from"]);
        details.RootElement.GetProperty("kid").GetString().ShouldBe(compromised.KeyId);
    }

    [Fact]
    public async Task MarkCompromisedAsync_SameTimeAgain_ChangesNothingAndIsAuditedOnce()
    {
        var keys = Keys(_nodes.Node());
        var kid = (await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None)).KeyId;
        Time.Advance(TimeSpan.FromHours(1));
        var from = Time.GetUtcNow().AddMinutes(-30);

        var first = await keys.MarkCompromisedAsync(kid, from, CancellationToken.None);
        var again = await keys.MarkCompromisedAsync(kid, from, CancellationToken.None);

        again.ShouldBe(first);
        (await AuditAsync(AuditEventTypes.AttestationKeyCompromised)).ShouldHaveSingleItem();
        (await _nodes.AttestationKeysAsync()).Count.ShouldBe(2, "one rotation, not two");
    }

    [Fact]
    public async Task MarkCompromisedAsync_EarlierTime_ReplacesTheLaterOneButNeverTheReverse()
    {
        var keys = Keys(_nodes.Node());
        var kid = (await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None)).KeyId;
        Time.Advance(TimeSpan.FromHours(1));
        var now = Time.GetUtcNow();
        await keys.MarkCompromisedAsync(kid, now.AddMinutes(-10), CancellationToken.None);

        var earlier = await keys.MarkCompromisedAsync(kid, now.AddMinutes(-40), CancellationToken.None);
        var later = await Should.ThrowAsync<KeyCustodyException>(() => keys.MarkCompromisedAsync(kid, now.AddMinutes(-5), CancellationToken.None));

        earlier.CompromisedFrom.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(now.AddMinutes(-40).ToUnixTimeSeconds()));
        later.Message.ShouldContain("a later time cannot replace an earlier one");
        later.Message.ShouldNotContain("\n");
        (await _nodes.AttestationKeysAsync()).Single(r => r.KeyId == kid).CompromisedFrom.ShouldBe(earlier.CompromisedFrom);
        var audits = await AuditAsync(AuditEventTypes.AttestationKeyCompromised);
        audits.Count.ShouldBe(2);
        audits[1].Details.ShouldNotBeNull().ShouldContain("\"previous\"");
    }

    [Fact]
    public async Task MarkCompromisedAsync_FutureTimeOrBeforeTheKeyWasValid_IsRefusedInOneLineAndMarksNothing()
    {
        var keys = Keys(_nodes.Node());
        var kid = (await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None)).KeyId;
        Time.Advance(TimeSpan.FromHours(1));

        var future = await Should.ThrowAsync<ArgumentOutOfRangeException>(() => keys.MarkCompromisedAsync(kid, Time.GetUtcNow().AddSeconds(1), CancellationToken.None));
        var tooEarly = await Should.ThrowAsync<ArgumentOutOfRangeException>(() => keys.MarkCompromisedAsync(kid, Time.GetUtcNow().AddDays(-1), CancellationToken.None));

        future.Message.ShouldContain("in the future");
        tooEarly.Message.ShouldContain("before the key");
        new[] { future.Message, tooEarly.Message }.ShouldAllBe(m => !m.Contains('\n'));
        (await _nodes.AttestationKeysAsync()).ShouldAllBe(r => r.CompromisedFrom == null && r.RetiredAt == null);
    }

    [Theory]
    [InlineData("unknown-kid-0000000000000000000000000000000")]
    [InlineData("abc\r\nforged log line")]
    [InlineData("")]
    public async Task MarkCompromisedAsync_UnknownOrMalformedKid_IsRefusedInOneLine(string kid)
    {
        var keys = Keys(_nodes.Node());
        await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None);

        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => keys.MarkCompromisedAsync(kid, Time.GetUtcNow(), CancellationToken.None));

        refusal.Message.ShouldContain("No attestation key with kid");
        refusal.Message.ShouldNotContain("\n");
        refusal.Message.ShouldNotContain("\r");
    }

    [Fact]
    public async Task PrivateKey_NeverInTheKeySetTheLogsOrUnwrappedInTheStore()
    {
        var logs = new CapturingLoggerProvider();
        var node = _nodes.Node(configure: services => services.AddSingleton<ILoggerProvider>(logs));
        var keys = Keys(node);
        var kid = (await keys.SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None)).KeyId;
        var row = (await _nodes.AttestationKeysAsync()).ShouldHaveSingleItem();
        var kek = node.GetRequiredService<IKeyEncryptionKey>();
        var sealedKey = await kek.UnwrapAsync(new WrappedKey(row.KekId!, row.KekAlgorithm!, row.WrappedPrivateKey!), CancellationToken.None);
        var pkcs8 = KeyEnvelope.Open(sealedKey, AttestationKeyRing.Label(row.KeyId, row.ValidFrom), "test");
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var d = ecdsa.ExportParameters(includePrivateParameters: true).D!;
        Time.Advance(TimeSpan.FromHours(1));

        await keys.RotateAsync(CancellationToken.None);
        await keys.MarkCompromisedAsync(kid, Time.GetUtcNow().AddMinutes(-1), CancellationToken.None);
        var keySet = AttestationVerifier.KeySetJson(await keys.AllAsync(CancellationToken.None));
        var everything = string.Join("\n", keySet, logs.All);

        Contains(pkcs8, d).ShouldBeTrue("the PKCS#8 form holds d: the checks below could fail");
        Contains(row.WrappedPrivateKey!, d).ShouldBeFalse();
        Contains(row.WrappedPrivateKey!, pkcs8.AsSpan(0, 32)).ShouldBeFalse();
        Encoding.UTF8.GetBytes(row.PublicJwk).AsSpan().IndexOf(d).ShouldBe(-1);
        everything.ShouldNotContain(Base64Url.EncodeToString(d));
        everything.ShouldNotContain(Convert.ToBase64String(d));
        everything.ShouldNotContain(Convert.ToHexString(d), Case.Insensitive);
        everything.ShouldNotContain(Convert.ToBase64String(pkcs8));
        keySet.ShouldNotContain("\"d\"");
        logs.Lines.ShouldContain(l => l.Contains(" 1400 "));
        logs.Lines.ShouldContain(l => l.Contains(" 1401 "));
        logs.Lines.ShouldContain(l => l.Contains(" 1402 "));
        (await _nodes.AttestationKeysAsync()).Single(r => r.KeyId == kid).WrappedPrivateKey.ShouldBeNull();
    }

    [Fact]
    public async Task NodeWithAnotherKek_RefusesToStartAndToSignAndCreatesNoKey()
    {
        var kid = (await Keys(_nodes.Node()).SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None)).KeyId;
        var strangerPath = Path.Combine(_nodes.Directory, "stranger.key");
        var stranger = _nodes.Node(strangerPath);

        var sign = await Should.ThrowAsync<KeyCustodyException>(() => Keys(stranger).SignAsync(ReceiptType, At(Time.GetUtcNow()), CancellationToken.None));
        var start = await Should.ThrowAsync<KeyCustodyException>(() => stranger.GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None));

        start.Message.ShouldNotContain("\n");
        start.Message.ShouldContain("1 key(s)");
        sign.Message.ShouldContain("Every node must hold the same key-encryption key");
        (await _nodes.AttestationKeysAsync()).Select(r => r.KeyId).ShouldBe([kid]);
    }

    private static IAttestationKeys Keys(IServiceProvider node) => node.GetRequiredService<IAttestationKeys>();

    private Task<List<AuditEvent>> AuditAsync(AuditEventType type) =>
        _nodes.WithStoreAsync(db => db.Set<AuditEvent>().AsNoTracking().Where(e => e.EventId == type.Id).OrderBy(e => e.Id).ToListAsync());

    private static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}

public sealed class AttestationKeysTests_Sqlite(SqliteStores stores) : AttestationKeysTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class AttestationKeysTests_Postgres(PostgresStores stores) : AttestationKeysTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
