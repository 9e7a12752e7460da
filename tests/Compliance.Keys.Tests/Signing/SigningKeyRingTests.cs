using Compliance.Audit.Trail;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Compliance.Keys.Encryption;
using Compliance.Keys.Signing;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Tests.Signing;

public abstract class SigningKeyRingTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly JsonSerializerOptions JwkJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly KeysNodes _nodes = new(stores);

    private FakeTimeProvider Time => _nodes.Time;

    public async Task InitializeAsync() => await _nodes.ClearStoreAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task RotateAsync_EmptyStore_CreatesACurrentAndANextKeyPerAlgorithm()
    {
        var ring = Ring(_nodes.Node());

        await ring.RotateAsync(CancellationToken.None);

        var keys = await _nodes.SigningKeysAsync();
        keys.Select(k => (k.Algorithm, k.Generation)).ShouldBe([("ES256", 0), ("ES256", 1), ("RS256", 0), ("RS256", 1)]);
        foreach (var chain in keys.GroupBy(k => k.Algorithm))
        {
            var (current, next) = (chain.First(), chain.Last());
            current.ActivatesAt.ShouldBeLessThanOrEqualTo(Time.GetUtcNow());
            next.ActivatesAt.ShouldBe(current.ActivatesAt.AddDays(90));
        }
    }

    [Fact]
    public async Task RotateAsync_CalledAgain_ChangesNothing()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var before = await _nodes.SigningKeysAsync();

        Time.Advance(TimeSpan.FromDays(30));
        await ring.RotateAsync(CancellationToken.None);

        (await _nodes.SigningKeysAsync()).Select(k => k.KeyId).ShouldBe(before.Select(k => k.KeyId));
    }

    [Theory]
    [InlineData("ES256", "EC")]
    [InlineData("RS256", "RSA")]
    public async Task GetSigningCredentialsAsync_TokenSignedWithThem_ValidatesAgainstTheValidationKeys(string algorithm, string keyType)
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);

        var credentials = await ring.GetSigningCredentialsAsync(algorithm, CancellationToken.None);
        var token = Sign(credentials);
        var result = await Validate(token, await ring.GetValidationKeysAsync(CancellationToken.None));

        result.IsValid.ShouldBeTrue(result.Exception?.Message);
        credentials.Algorithm.ShouldBe(algorithm);
        credentials.Key.KeyId.ShouldNotBeNullOrEmpty();
        var header = new JsonWebToken(token);
        header.Kid.ShouldBe(credentials.Key.KeyId);
        header.Alg.ShouldBe(algorithm);
        (await ring.GetPublishedKeysAsync(CancellationToken.None)).ShouldContain(k => k.Kid == credentials.Key.KeyId && k.Kty == keyType);
    }

    [Fact]
    public async Task GetValidationKeysAsync_TokenSignedByAForeignKey_DoesNotValidate()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        using var foreign = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;

        var token = Sign(new SigningCredentials(new ECDsaSecurityKey(foreign) { KeyId = kid }, "ES256"));
        var result = await Validate(token, await ring.GetValidationKeysAsync(CancellationToken.None));

        result.IsValid.ShouldBeFalse();
    }

    [Fact]
    public async Task GetSigningCredentialsAsync_CalledTwice_ReturnsTheSameInstanceFromMemory()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);

        var first = await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None);
        await _nodes.WithStoreAsync(db => db.Set<SigningKey>().ExecuteDeleteAsync());
        var second = await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None);

        second.ShouldBeSameAs(first);
    }

    [Theory]
    [InlineData("es256")]
    [InlineData("HS256")]
    [InlineData("none")]
    public async Task GetSigningCredentialsAsync_UnsupportedAlgorithm_Throws(string algorithm)
    {
        var ring = Ring(_nodes.Node());

        await Should.ThrowAsync<ArgumentOutOfRangeException>(async () => await ring.GetSigningCredentialsAsync(algorithm, CancellationToken.None));
    }

    [Fact]
    public async Task GetSigningCredentialsAsync_StoreNeverRotated_CreatesTheKeysItself()
    {
        var ring = Ring(_nodes.Node());

        var credentials = await ring.GetSigningCredentialsAsync("RS256", CancellationToken.None);

        (await _nodes.SigningKeysAsync()).ShouldContain(k => k.KeyId == credentials.Key.KeyId && k.Generation == 0);
    }

    [Fact]
    public async Task GetPublishedKeysAsync_AfterFirstRotation_HoldsOnlyPublicParameters()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);

        var published = await ring.GetPublishedKeysAsync(CancellationToken.None);

        published.Count.ShouldBe(4);
        foreach (var key in published)
        {
            key.HasPrivateKey.ShouldBeFalse();
            key.Use.ShouldBe("sig");
            key.Kid.ShouldBe(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), "kid is the RFC 7638 thumbprint");
            var members = JsonDocument.Parse(JsonSerializer.Serialize(key, JwkJson)).RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() > 0)
                .Select(p => p.Name)
                .Order(StringComparer.Ordinal)
                .ToList();
            members.ShouldBe(key.Kty == "EC" ? ["alg", "crv", "kid", "kty", "use", "x", "y"] : ["alg", "e", "kid", "kty", "n", "use"]);
            members.ShouldNotContain("d");
            key.Alg.ShouldBe(key.Kty == "EC" ? "ES256" : "RS256");
        }

        published.Where(k => k.Kty == "RSA").ShouldAllBe(k => k.KeySize == 3072);
    }

    [Fact]
    public async Task GetSigningCredentialsAsync_PastTheLifetime_TheNextKeySignsAfterBeingPublishedInAdvance()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var first = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        var published = (await ring.GetPublishedKeysAsync(CancellationToken.None)).Where(k => k.Alg == "ES256").Select(k => k.Kid).ToList();
        var next = published.Where(k => k != first).ShouldHaveSingleItem();
        var publishedAt = Time.GetUtcNow();

        Time.Advance(TimeSpan.FromDays(89));
        var beforeSwitch = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        Time.Advance(TimeSpan.FromDays(1));
        var afterSwitch = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;

        beforeSwitch.ShouldBe(first);
        afterSwitch.ShouldBe(next);
        (Time.GetUtcNow() - publishedAt).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromDays(7));
    }

    [Fact]
    public async Task RotateAsync_AfterTheSwitch_AddsANewNextKeyAPeriodLater()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);

        Time.Advance(TimeSpan.FromDays(90));
        await ring.RotateAsync(CancellationToken.None);

        var chain = (await _nodes.SigningKeysAsync()).Where(k => k.Algorithm == "ES256").ToList();
        chain.Select(k => k.Generation).ShouldBe([0, 1, 2]);
        chain[2].ActivatesAt.ShouldBe(chain[1].ActivatesAt.AddDays(90));
        (await ring.GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.Kid).ShouldContain(chain[2].KeyId);
    }

    [Fact]
    public async Task RotateAsync_AfterALongOutage_PublishesTheNewNextKeyPrePublishDaysBeforeItSigns()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);

        // No node ran for 200 days: generation 1 signs since day 90, and generation 2 was due on day 180.
        Time.Advance(TimeSpan.FromDays(200));
        await ring.RotateAsync(CancellationToken.None);
        var chain = (await _nodes.SigningKeysAsync()).Where(k => k.Algorithm == "ES256").ToList();
        Time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        var stillSigning = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        Time.Advance(TimeSpan.FromMinutes(1));
        var nowSigning = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;

        var (signing, next) = (chain.Single(k => k.Generation == 1), chain.Single(k => k.Generation == 2));
        next.ActivatesAt.ShouldBe(next.CreatedAt.AddDays(7));
        stillSigning.ShouldBe(signing.KeyId);
        nowSigning.ShouldBe(next.KeyId);
    }

    [Fact]
    public async Task GetPublishedKeysAsync_RetiredKey_StaysRetiredKeyPublishDaysThenDisappears()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var retired = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        Time.Advance(TimeSpan.FromDays(90));
        await ring.RotateAsync(CancellationToken.None);

        Time.Advance(TimeSpan.FromDays(2) - TimeSpan.FromMinutes(1));
        var lastDay = (await ring.GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.Kid).ToList();
        var lastDayValidation = (await ring.GetValidationKeysAsync(CancellationToken.None)).Select(k => k.KeyId).ToList();
        Time.Advance(TimeSpan.FromMinutes(1));
        var after = (await ring.GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.Kid).ToList();
        var afterValidation = (await ring.GetValidationKeysAsync(CancellationToken.None)).Select(k => k.KeyId).ToList();
        await ring.RotateAsync(CancellationToken.None);

        lastDay.ShouldContain(retired);
        lastDayValidation.ShouldContain(retired);
        after.ShouldNotContain(retired);
        afterValidation.ShouldNotContain(retired);
        (await _nodes.SigningKeysAsync()).ShouldNotContain(k => k.KeyId == retired, "a key no longer published is purged");
        (await _nodes.SigningKeysAsync()).Count(k => k.Algorithm == "ES256").ShouldBe(2);

        // The purge is in the audit trail, by public key id only, once.
        var purge = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.SigningKeysPurged.Id, $"\"{retired}\"")).ShouldHaveSingleItem();
        purge.Name.ShouldBe("keys.signing_keys_purged");
        purge.Actor.ShouldBe(AuditActor.Server().Name, "the node whose rotation purged the key");
        purge.ShouldHoldOnlyIdsAndEnumeratedValues();
        var details = System.Text.Json.JsonDocument.Parse(purge.Details!).RootElement;
        details.GetProperty("algorithm").GetString().ShouldBe("ES256");
        details.GetProperty("kids").EnumerateArray().Select(k => k.GetString()).ShouldBe([retired]);
        details.GetProperty("count").GetInt32().ShouldBe(1);
    }

    [Fact]
    public async Task RotateAsync_ManyNodesAtOnce_EndWithOneChainAndOneCurrentKeyPerAlgorithm()
    {
        var rings = Enumerable.Range(0, 6).Select(_ => Ring(_nodes.Node())).ToList();

        await Task.WhenAll(rings.Select(r => Task.Run(() => r.RotateAsync(CancellationToken.None))));

        var keys = await _nodes.SigningKeysAsync();
        keys.Select(k => (k.Algorithm, k.Generation)).ShouldBe([("ES256", 0), ("ES256", 1), ("RS256", 0), ("RS256", 1)]);
        foreach (var algorithm in new[] { "ES256", "RS256" })
        {
            var current = new HashSet<string>();
            foreach (var ring in rings)
            {
                current.Add((await ring.GetSigningCredentialsAsync(algorithm, CancellationToken.None)).Key.KeyId);
            }

            current.ShouldHaveSingleItem().ShouldBe(keys.Single(k => k.Algorithm == algorithm && k.Generation == 0).KeyId);
        }
    }

    [Fact]
    public async Task GetPublishedKeysAsync_KeyCreatedByAnotherNode_IsSeenWithinAMinute()
    {
        var first = Ring(_nodes.Node());
        var second = Ring(_nodes.Node());
        await first.RotateAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromDays(90));
        await second.GetPublishedKeysAsync(CancellationToken.None);

        await first.RotateAsync(CancellationToken.None);
        var newest = (await _nodes.SigningKeysAsync()).Single(k => k.Algorithm == "ES256" && k.Generation == 2).KeyId;
        Time.Advance(TimeSpan.FromSeconds(61));
        var seen = (await second.GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.Kid);

        seen.ShouldContain(newest);
    }

    [Fact]
    public async Task StoredPrivateKey_WithoutTheKek_DoesNotRevealThePrivateKey()
    {
        var node = _nodes.Node();
        await Ring(node).RotateAsync(CancellationToken.None);
        var kek = node.GetRequiredService<IKeyEncryptionKey>();

        foreach (var row in await _nodes.SigningKeysAsync())
        {
            var sealedKey = await kek.UnwrapAsync(new WrappedKey(row.KekId, row.KekAlgorithm, row.WrappedPrivateKey), CancellationToken.None);
            var pkcs8 = KeyEnvelope.Open(sealedKey, SigningKeyRing.Label(row.Algorithm, row.Generation, row.ActivatesAt), "test");
            byte[] d;
            if (row.Algorithm == "ES256")
            {
                using var ecdsa = ECDsa.Create();
                ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
                d = ecdsa.ExportParameters(includePrivateParameters: true).D!;
            }
            else
            {
                using var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                d = rsa.ExportParameters(includePrivateParameters: true).D!;
            }

            // DER writes an integer without its leading zero bytes (RSA's D starts with one about once in 256 keys):
            // look for the bytes that are written.
            d = d.AsSpan().TrimStart((byte)0).ToArray();
            d.Length.ShouldBeGreaterThanOrEqualTo(32);
            Contains(pkcs8, d).ShouldBeTrue("the PKCS#8 form holds D: the check below could fail");
            Contains(row.WrappedPrivateKey, d).ShouldBeFalse();
            Contains(row.WrappedPrivateKey, pkcs8.AsSpan(0, 32)).ShouldBeFalse();
            row.KekId.ShouldBe(kek.KeyId);
        }
    }

    [Fact]
    public async Task GetSigningCredentialsAsync_NodeWithAnotherKek_FailsAndCreatesNoNewKeys()
    {
        await Ring(_nodes.Node()).RotateAsync(CancellationToken.None);
        var before = await _nodes.SigningKeysAsync();
        var stranger = Ring(_nodes.Node(Path.Combine(_nodes.Directory, "stranger.key")));

        var exception = await Should.ThrowAsync<KeyCustodyException>(async () => await stranger.GetSigningCredentialsAsync("ES256", CancellationToken.None));
        var published = await stranger.GetPublishedKeysAsync(CancellationToken.None);

        exception.Message.ShouldContain("Every node must hold the same key-encryption key");
        published.ShouldBeEmpty();
        (await _nodes.SigningKeysAsync()).Select(k => k.KeyId).ShouldBe(before.Select(k => k.KeyId));
    }

    [Fact]
    public async Task GetSigningCredentialsAsync_WrappedKeyMovedToAnotherRow_IsRejected()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var keys = await _nodes.SigningKeysAsync();
        var current = keys.Single(k => k.Algorithm == "ES256" && k.Generation == 0);
        var next = keys.Single(k => k.Algorithm == "ES256" && k.Generation == 1);

        // An attacker with write access to the store, but not the KEK, swaps wrapped keys between rows.
        await _nodes.WithStoreAsync(db => db.Set<SigningKey>().Where(k => k.KeyId == current.KeyId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.WrappedPrivateKey, next.WrappedPrivateKey)));
        var fresh = Ring(_nodes.Node());

        var exception = await Should.ThrowAsync<KeyCustodyException>(async () => await fresh.GetSigningCredentialsAsync("ES256", CancellationToken.None));
        var published = (await fresh.GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.Kid).ToList();

        exception.Message.ShouldContain(current.KeyId);
        published.ShouldNotContain(current.KeyId);
        published.ShouldContain(next.KeyId);
    }

    [Fact]
    public async Task HostStart_FreshStore_EnsuresTheKeysBeforeServing()
    {
        var node = _nodes.Node();
        var hosted = node.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<KeyRotationService>().ShouldHaveSingleItem();

        await hosted.StartAsync(CancellationToken.None);
        await hosted.StopAsync(CancellationToken.None);

        (await _nodes.SigningKeysAsync()).Count.ShouldBe(4);
    }

    [Fact]
    public async Task HostStart_NodeWithAnotherKek_RefusesToStart()
    {
        await Ring(_nodes.Node()).RotateAsync(CancellationToken.None);
        var stranger = _nodes.Node(Path.Combine(_nodes.Directory, "stranger.key"));
        var hosted = stranger.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<KeyRotationService>().ShouldHaveSingleItem();

        await Should.ThrowAsync<KeyCustodyException>(() => hosted.StartAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RevokeAsync_TheSigningKey_LeavesJwksAndValidationOnEveryNodeAndANewKeySignsAtOnce()
    {
        var (a, b) = (_nodes.Node(), _nodes.Node());
        await Ring(a).RotateAsync(CancellationToken.None);
        var compromised = await Ring(b).GetSigningCredentialsAsync("ES256", CancellationToken.None);
        var forged = Sign(compromised);
        (await Validate(forged, await Ring(b).GetValidationKeysAsync(CancellationToken.None))).IsValid.ShouldBeTrue("the precondition");

        var revocation = await Ring(a).RevokeAsync(compromised.Key.KeyId, CancellationToken.None);

        revocation.WasSigning.ShouldBeTrue();
        revocation.ReplacedBy.ShouldNotBeNull().ShouldNotBe(compromised.Key.KeyId);
        (await Ring(a).GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.KeyId).ShouldNotContain(compromised.Key.KeyId);
        (await Ring(a).GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(revocation.ReplacedBy);

        // Node b learns of it at its next refresh, and not later.
        Time.Advance(SigningKeyRing.RefreshInterval);
        (await Ring(b).GetPublishedKeysAsync(CancellationToken.None)).Select(k => k.KeyId).ShouldNotContain(compromised.Key.KeyId);
        (await Validate(forged, await Ring(b).GetValidationKeysAsync(CancellationToken.None))).IsValid.ShouldBeFalse();
        (await Ring(b).GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(revocation.ReplacedBy);
        (await _nodes.SigningKeysAsync()).Select(k => k.KeyId).ShouldNotContain(compromised.Key.KeyId, "its wrapped private key is deleted");
        (await Ring(b).GetSigningCredentialsAsync("RS256", CancellationToken.None)).ShouldNotBeNull("the other algorithm is untouched");

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.SigningKeyRevoked.Id)).ShouldHaveSingleItem();
        var details = JsonDocument.Parse(row.Details!).RootElement;
        details.GetProperty("kid").GetString().ShouldBe(compromised.Key.KeyId);
        details.GetProperty("replaced_by").GetString().ShouldBe(revocation.ReplacedBy);
    }

    [Fact]
    public async Task RevokeAsync_TheNextKey_IsReplacedByTheScheduleAndTheCurrentKeepsSigning()
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var current = (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        var next = (await _nodes.SigningKeysAsync()).Single(k => k.Algorithm == "ES256" && k.Generation == 1).KeyId;

        var revocation = await ring.RevokeAsync(next, CancellationToken.None);
        await ring.RotateAsync(CancellationToken.None);

        revocation.WasSigning.ShouldBeFalse();
        revocation.ReplacedBy.ShouldBeNull();
        (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(current);
        var chain = (await _nodes.SigningKeysAsync()).Where(k => k.Algorithm == "ES256").ToList();
        chain.Select(k => k.KeyId).ShouldNotContain(next);
        chain.Count.ShouldBe(2, "rotation scheduled a new next key");
        Time.Advance(TimeSpan.FromDays(91));
        (await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(chain[1].KeyId);
    }

    [Fact]
    public async Task RevokeAsync_SameKidOnTwoNodesAtOnce_OneRevokesAndAddsOneReplacement_TheOtherIsRefused()
    {
        var (a, b) = (_nodes.Node(), _nodes.Node());
        await Ring(a).RotateAsync(CancellationToken.None);
        var kid = (await Ring(a).GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        var before = (await _nodes.SigningKeysAsync()).Count(k => k.Algorithm == "ES256");

        var attempts = await Task.WhenAll(new[] { a, b }.Select(node => Task.Run(async () =>
        {
            try
            {
                return (await Ring(node).RevokeAsync(kid, CancellationToken.None)).ReplacedBy;
            }
            catch (KeyCustodyException)
            {
                return null;
            }
        })));

        attempts.Count(r => r is not null).ShouldBe(1, "exactly one node revokes it");
        var chain = (await _nodes.SigningKeysAsync()).Where(k => k.Algorithm == "ES256").ToList();
        chain.Select(k => k.KeyId).ShouldNotContain(kid);
        chain.Count.ShouldBe(before, "one deleted, one replacement added, never two");
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.SigningKeyRevoked.Id)).Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("no-such-kid")]
    [InlineData("kid\r\nforged log line")]
    public async Task RevokeAsync_UnknownKid_RefusesAndChangesNothing(string kid)
    {
        var ring = Ring(_nodes.Node());
        await ring.RotateAsync(CancellationToken.None);
        var before = await _nodes.SigningKeysAsync();

        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => ring.RevokeAsync(kid, CancellationToken.None));

        refusal.Message.ShouldContain("No signing key with kid");
        refusal.Message.ShouldNotContain("\n");
        (await _nodes.SigningKeysAsync()).Select(k => k.KeyId).ShouldBe(before.Select(k => k.KeyId));
    }

    private static ISigningKeys Ring(IServiceProvider node) => node.GetRequiredService<ISigningKeys>();

    private static string Sign(SigningCredentials credentials) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://compliance.test",
        Audience = "client",
        Subject = new ClaimsIdentity([new Claim("sub", "pairwise")]),
        SigningCredentials = credentials,
    });

    private static Task<TokenValidationResult> Validate(string token, IReadOnlyList<SecurityKey> keys) =>
        new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "https://compliance.test",
            ValidAudience = "client",
            IssuerSigningKeys = keys,
            ValidateLifetime = false,
        });

    private static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}

public sealed class SigningKeyRingTests_Sqlite(SqliteStores stores) : SigningKeyRingTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class SigningKeyRingTests_Postgres(PostgresStores stores) : SigningKeyRingTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
