using System.Security.Cryptography;
using System.Text;
using Compliance.Keys.Encryption;
using Compliance.Keys.Hashing;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.Tests.Hashing;

public abstract class KeyedHashTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("client.example.fr\u00000191b5a2-7c1e-7000-8000-000000000001");

    private readonly KeysNodes _nodes = new(stores);

    public async Task InitializeAsync() => await _nodes.ClearStoreAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task ComputeAsync_SamePurposeAndData_IsDeterministicAnd32Bytes()
    {
        var hash = Hash(_nodes.Node());

        var first = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var second = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);

        first.Length.ShouldBe(32);
        second.ShouldBe(first);
        second.ShouldNotBeSameAs(first);
    }

    [Fact]
    public async Task ComputeAsync_OtherData_Differs()
    {
        var hash = Hash(_nodes.Node());

        var first = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var other = await hash.ComputeAsync("pairwise-subject", Data.Append((byte)1).ToArray(), CancellationToken.None);

        other.ShouldNotBe(first);
    }

    [Fact]
    public async Task ComputeAsync_DifferentPurposes_DifferAndEachHasItsOwnSecret()
    {
        var hash = Hash(_nodes.Node());

        var pairwise = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var blindIndex = await hash.ComputeAsync("vault.blindindex", Data, CancellationToken.None);

        blindIndex.ShouldNotBe(pairwise);
        var purposes = await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().Select(s => s.Purpose).OrderBy(p => p).ToListAsync());
        purposes.ShouldBe(["pairwise-subject", "vault.blindindex"]);
    }

    [Fact]
    public async Task ComputeAsync_TwoNodesOnOneDatabase_GiveTheSameHash()
    {
        var first = await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);

        var second = await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);

        second.ShouldBe(first);
    }

    [Fact]
    public async Task ComputeAsync_ManyNodesFirstUseAtOnce_AgreeOnOneSecret()
    {
        var hashes = Enumerable.Range(0, 6).Select(_ => Hash(_nodes.Node())).ToList();

        var results = await Task.WhenAll(hashes.Select(h => Task.Run(async () => await h.ComputeAsync("pairwise-subject", Data, CancellationToken.None))));

        results.Select(Convert.ToHexString).Distinct().Count().ShouldBe(1);
        (await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().CountAsync())).ShouldBe(1);
    }

    [Fact]
    public async Task ComputeAsync_Always_IsHmacSha256UnderTheStoredSecretWhichIsOnlyStoredWrapped()
    {
        var node = _nodes.Node();
        var hash = await Hash(node).ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var stored = await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().SingleAsync());
        var kek = node.GetRequiredService<IKeyEncryptionKey>();

        var secret = KeyEnvelope.Open(
            await kek.UnwrapAsync(new WrappedKey(stored.KekId, stored.KekAlgorithm, stored.WrappedSecret), CancellationToken.None),
            "compliance-keyed-hash|pairwise-subject",
            "test");

        secret.Length.ShouldBe(32);
        HMACSHA256.HashData(secret, Data).ShouldBe(hash);
        stored.WrappedSecret.AsSpan().IndexOf(secret).ShouldBe(-1);
    }

    [Fact]
    public async Task ComputeAsync_NodeWithAnotherKek_FailsAndNeverReplacesTheSecret()
    {
        var original = await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var stranger = Hash(_nodes.Node(Path.Combine(_nodes.Directory, "stranger.key")));

        await Should.ThrowAsync<KeyCustodyException>(async () => await stranger.ComputeAsync("pairwise-subject", Data, CancellationToken.None));

        (await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None)).ShouldBe(original);
        (await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().CountAsync())).ShouldBe(1);
    }

    [Fact]
    public async Task ComputeAsync_SecretDeletedFromTheStore_RefusesAndNeverCreatesANewOne()
    {
        var original = await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().ExecuteDeleteAsync());

        var refusal = await Should.ThrowAsync<KeyCustodyException>(async () => await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None));

        refusal.Message.ShouldContain("'pairwise-subject' was created once");
        refusal.Message.ShouldContain("never re-created");
        (await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().CountAsync())).ShouldBe(0, "no new secret would silently change every pairwise subject");
        original.Length.ShouldBe(32);
    }

    [Fact]
    public async Task HostStart_SecretDeletedFromTheStore_RefusesToStartInOneLine()
    {
        await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().ExecuteDeleteAsync());
        var startup = _nodes.Node().GetRequiredService<KekProvisioning>();

        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => startup.EnsureAtStartAsync(mayCreate: true, CancellationToken.None));

        refusal.Message.ShouldStartWith("Keys: the keyed-hash secret of purpose 'pairwise-subject' was created once");
        refusal.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task HostStart_SecretStoredBeforeItsCreationWasAudited_RecordsItSoThatItIsGuardedFromThenOn()
    {
        await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        await _nodes.WithStoreAsync(db => db.Set<Compliance.Audit.Trail.AuditEvent>().ExecuteDeleteAsync());
        await _nodes.Node().GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None);
        await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().ExecuteDeleteAsync());

        await Should.ThrowAsync<KeyCustodyException>(async () => await Hash(_nodes.Node()).ComputeAsync("pairwise-subject", Data, CancellationToken.None));
    }

    [Fact]
    public async Task ComputeAsync_SecretMovedToAnotherPurpose_IsRejected()
    {
        var hash = Hash(_nodes.Node());
        await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        await hash.ComputeAsync("vault.blindindex", Data, CancellationToken.None);
        var pairwise = await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().SingleAsync(s => s.Purpose == "pairwise-subject"));

        // Copying one purpose's wrapped secret onto another would let the two hashes be joined.
        await _nodes.WithStoreAsync(db => db.Set<KeyedHashSecret>().Where(s => s.Purpose == "vault.blindindex")
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.WrappedSecret, pairwise.WrappedSecret)));

        await Should.ThrowAsync<KeyCustodyException>(async () => await Hash(_nodes.Node()).ComputeAsync("vault.blindindex", Data, CancellationToken.None));
    }

    [Fact]
    public async Task ComputeAsync_AfterTheCacheExpires_StillGivesTheSameHash()
    {
        var hash = Hash(_nodes.Node());
        var first = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);

        _nodes.Time.Advance(TimeSpan.FromHours(1));
        var later = await hash.ComputeAsync("pairwise-subject", Data, CancellationToken.None);

        later.ShouldBe(first);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Pairwise")]
    [InlineData("pairwise subject")]
    [InlineData("pairwise/subject")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task ComputeAsync_InvalidPurpose_Throws(string purpose)
    {
        var hash = Hash(_nodes.Node());

        await Should.ThrowAsync<ArgumentException>(async () => await hash.ComputeAsync(purpose, Data, CancellationToken.None));
    }

    [Fact]
    public async Task HasherAsync_FromManyThreads_GivesExactlyWhatComputeAsyncGives_OnEveryNode()
    {
        var a = _nodes.Node();
        var b = _nodes.Node();
        var inputs = Enumerable.Range(0, 2_000).Select(i => Encoding.UTF8.GetBytes($"leaf-{i}")).ToArray();
        var expected = new byte[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
        {
            expected[i] = await Hash(a).ComputeAsync("consent-ledger-seal", inputs[i], CancellationToken.None);
        }

        using var hasher = await Hash(b).HasherAsync("consent-ledger-seal", CancellationToken.None);
        var computed = new byte[inputs.Length][];
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => computed[i] = hasher.Compute(inputs[i]));

        computed.ShouldBe(expected);
        using var other = await Hash(b).HasherAsync("pairwise-subject", CancellationToken.None);
        other.Compute(inputs[0]).ShouldNotBe(expected[0], "each purpose has its own secret");
    }

    [Fact]
    public async Task HasherAsync_Disposed_RefusesToHash_AndAnInvalidPurposeIsRefused()
    {
        var hash = Hash(_nodes.Node());
        var hasher = await hash.HasherAsync("pairwise-subject", CancellationToken.None);
        hasher.Dispose();

        Should.Throw<ObjectDisposedException>(() => hasher.Compute(Data));
        await Should.ThrowAsync<ArgumentException>(async () => await hash.HasherAsync("Not A Purpose", CancellationToken.None));
    }

    private static IKeyedHash Hash(IServiceProvider node) => node.GetRequiredService<IKeyedHash>();
}

public sealed class KeyedHashTests_Sqlite(SqliteStores stores) : KeyedHashTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class KeyedHashTests_Postgres(PostgresStores stores) : KeyedHashTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
