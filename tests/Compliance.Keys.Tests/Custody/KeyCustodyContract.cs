using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Compliance.Keys.Encryption;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Compliance.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Tests.Custody;

/// <summary>
/// The one key-custody suite, run against every kind of key-encryption key: the local file, a PKCS#11 token
/// (SoftHSM2) and the Azure Key Vault stand-in. Each kind says how to configure (and, in its custody, create) a KEK
/// by name; the suite drives real nodes on a real store through the configuration, as an operator would.
/// </summary>
public abstract class KeyCustodyContract<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    protected static readonly byte[] Data = "patient-42"u8.ToArray();
    private readonly List<ServiceProvider> _providers = [];

    protected FakeTimeProvider Time { get; } = new();

    protected TStores Stores => stores;

    protected string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("compliance-custody-").FullName;

    /// <summary>The settings of a KEK named <paramref name="name"/>, under <paramref name="section"/> (<c>Keys</c> or <c>Keys:Previous</c>).</summary>
    protected abstract Dictionary<string, string?> KekSettings(string name, string section);

    /// <summary>Creates the KEK named <paramref name="name"/> in its custody, as an operator would before configuring it.</summary>
    protected abstract Task CreateKekAsync(string name);

    public async Task InitializeAsync()
    {
        await using var provider = StoreServices.Build(stores, services => services.AddComplianceKeys(new ConfigurationBuilder().Build()));
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Compliance.Data.Model.ComplianceDbContext>();
        await db.Set<SigningKey>().ExecuteDeleteAsync();
        await db.Set<KeyedHashSecret>().ExecuteDeleteAsync();
        await db.Set<Compliance.Keys.DataProtection.DataProtectionKey>().ExecuteDeleteAsync();
        await db.Set<Compliance.Keys.Attestation.AttestationKeyRecord>().ExecuteDeleteAsync();
        await db.Set<Compliance.Audit.Trail.AuditEvent>().ExecuteDeleteAsync();
        await CreateKekAsync("a");
        await CreateKekAsync("b");
    }

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(16 * 1024)]
    public async Task UnwrapAsync_WhatWrapAsyncWrapped_ReturnsTheDataKeyAndTheWrappedBytesHideIt(int length)
    {
        var kek = Kek(Node("a"));
        var dataKey = RandomNumberGenerator.GetBytes(length);

        var wrapped = await kek.WrapAsync(dataKey, CancellationToken.None);

        wrapped.KeyId.ShouldBe(kek.KeyId);
        (await kek.UnwrapAsync(wrapped, CancellationToken.None)).ShouldBe(dataKey);
        (await Kek(Node("a")).UnwrapAsync(wrapped, CancellationToken.None)).ShouldBe(dataKey, "another node with the same KEK");
        if (length >= 16)
        {
            wrapped.Ciphertext.AsSpan().IndexOf(dataKey).ShouldBe(-1);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public async Task UnwrapAsync_AnyBitFlipped_IsRefused(double where)
    {
        var kek = Kek(Node("a"));
        var wrapped = await kek.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);
        var altered = wrapped.Ciphertext.ToArray();
        altered[(int)Math.Min(altered.Length - 1, where * altered.Length)] ^= 0x01;

        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => kek.UnwrapAsync(wrapped with { Ciphertext = altered }, CancellationToken.None));

        refusal.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task UnwrapAsync_AnotherKeksWrappedKey_IsRefusedNamingBothKeys()
    {
        var (a, b) = (Kek(Node("a")), Kek(Node("b")));
        var wrapped = await a.WrapAsync(RandomNumberGenerator.GetBytes(32), CancellationToken.None);

        b.KeyId.ShouldNotBe(a.KeyId);
        b.CanUnwrap(a.KeyId).ShouldBeFalse();
        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => b.UnwrapAsync(wrapped, CancellationToken.None));
        refusal.Message.ShouldContain(a.KeyId);
    }

    [Fact]
    public async Task HostStart_StoreWrappedByAnotherKek_RefusesInOneLine()
    {
        await UseEverything(Node("a"));

        var refusal = await Should.ThrowAsync<KeyCustodyException>(() => Node("b").GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None));

        refusal.Message.ShouldContain(Kek(Node("a")).KeyId);
        refusal.Message.ShouldContain("Keys:Previous");
        refusal.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task RotateKek_FromAToB_RewrapsEveryStoredKeyAndNothingChangesForTheService()
    {
        var before = await UseEverything(Node("a"));
        var rotating = Node("b", previous: "a");
        await rotating.GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None);

        var result = await rotating.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None);

        var b = Kek(Node("b"));
        result.KekId.ShouldBe(b.KeyId);
        result.Remaining.ShouldBe(0);
        result.Rewrapped.ShouldBe(before.StoredKeys);
        var census = await rotating.GetRequiredService<IKekRotation>().TakeCensusAsync(CancellationToken.None);
        census.WrappedByKek.Keys.ShouldBe([b.KeyId], "every wrapped key now names the new KEK");

        // A node holding only the new KEK starts, and hashes, signs and opens cookies as before.
        var after = Node("b");
        await after.GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None);
        (await after.GetRequiredService<IKeyedHash>().ComputeAsync("pairwise-subject", Data, CancellationToken.None)).ShouldBe(before.Hash);
        (await after.GetRequiredService<ISigningKeys>().GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId.ShouldBe(before.SigningKid);
        (await after.GetRequiredService<IAttestationKeys>().SignAsync("test+jws", Data, CancellationToken.None)).KeyId.ShouldBe(before.AttestationKid);
        Encoding.UTF8.GetString(Protector(after).Unprotect(before.Cookie)).ShouldBe("session");

        // And a node holding only the old one no longer can.
        var old = Node("a");
        await Should.ThrowAsync<KeyCustodyException>(() => old.GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None));
    }

    [Fact]
    public async Task RotateKek_TwoRunsAtOnceOnTwoNodes_RewrapEachKeyOnceAndLeaveNothingBehind()
    {
        var before = await UseEverything(Node("a"));
        var (first, second) = (Node("b", previous: "a"), Node("b", previous: "a"));

        var results = await Task.WhenAll(
            Task.Run(() => first.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None)),
            Task.Run(() => second.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None)));

        results.Sum(r => r.Rewrapped).ShouldBe(before.StoredKeys, "a key re-wrapped by one run is skipped by the other");
        results.ShouldAllBe(r => r.Remaining == 0);
        var after = Node("b");
        await after.GetRequiredService<KekProvisioning>().EnsureAtStartAsync(mayCreate: true, CancellationToken.None);
        (await after.GetRequiredService<IKeyedHash>().ComputeAsync("pairwise-subject", Data, CancellationToken.None)).ShouldBe(before.Hash);
        Encoding.UTF8.GetString(Protector(after).Unprotect(before.Cookie)).ShouldBe("session");
        (await after.GetRequiredService<IAttestationKeys>().SignAsync("test+jws", Data, CancellationToken.None)).KeyId.ShouldBe(before.AttestationKid);
    }

    [Fact]
    public async Task RotateKek_RunTwice_TheSecondChangesNothing()
    {
        await UseEverything(Node("a"));
        var rotating = Node("b", previous: "a");
        await rotating.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None);

        var again = await rotating.GetRequiredService<IKekRotation>().RotateAsync(new KekRotationOptions(), CancellationToken.None);

        again.Rewrapped.ShouldBe(0);
        again.FromKekIds.ShouldBeEmpty();
    }

    [Fact]
    public async Task RevokeSigningKey_TokensItSignedStopValidating()
    {
        var ring = Node("a").GetRequiredService<ISigningKeys>();
        var credentials = await ring.GetSigningCredentialsAsync("ES256", CancellationToken.None);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://compliance.test", Audience = "client", Subject = new ClaimsIdentity([new Claim("sub", "pairwise")]), SigningCredentials = credentials,
        });

        var revocation = await ring.RevokeAsync(credentials.Key.KeyId, CancellationToken.None);

        revocation.ReplacedBy.ShouldNotBeNull();
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "https://compliance.test", ValidAudience = "client", ValidateLifetime = false,
            IssuerSigningKeys = await ring.GetValidationKeysAsync(CancellationToken.None),
        });
        result.IsValid.ShouldBeFalse();
    }

    protected static IKeyEncryptionKey Kek(IServiceProvider node) => node.GetRequiredService<IKeyEncryptionKey>();

    protected static IDataProtector Protector(IServiceProvider node) => node.GetRequiredService<IDataProtectionProvider>().CreateProtector("custody-contract");

    /// <summary>A node whose current KEK is <paramref name="kek"/>, with <paramref name="previous"/> during a rotation.</summary>
    private ServiceProvider Node(string kek, string? previous = null)
    {
        var settings = KekSettings(kek, "Keys");
        if (previous is not null)
        {
            foreach (var (key, value) in KekSettings(previous, "Keys:Previous"))
            {
                settings[key] = value;
            }
        }

        return Node(settings);
    }

    /// <summary>A node with these key settings, started as a host starts it (without its hosted services).</summary>
    protected ServiceProvider Node(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var provider = StoreServices.Build(stores, services => services
            .Replace(ServiceDescriptor.Singleton<TimeProvider>(Time))
            .AddComplianceKeys(configuration));
        _providers.Add(provider);

        // As a host does at start (a key vault's current version is learned then).
        provider.GetRequiredService<IKeyEncryptionKey>().EnsureReadyAsync(CancellationToken.None).GetAwaiter().GetResult();
        return provider;
    }

    /// <summary>Creates one key of every kind the store wraps, and what the service derives from them.</summary>
    protected static async Task<(byte[] Hash, string SigningKid, byte[] Cookie, string AttestationKid, int StoredKeys)> UseEverything(IServiceProvider node)
    {
        var hash = await node.GetRequiredService<IKeyedHash>().ComputeAsync("pairwise-subject", Data, CancellationToken.None);
        var kid = (await node.GetRequiredService<ISigningKeys>().GetSigningCredentialsAsync("ES256", CancellationToken.None)).Key.KeyId;
        var cookie = Protector(node).Protect(Encoding.UTF8.GetBytes("session"));
        var attestationKid = (await node.GetRequiredService<IAttestationKeys>().SignAsync("test+jws", Data, CancellationToken.None)).KeyId;
        var census = await node.GetRequiredService<IKekRotation>().TakeCensusAsync(CancellationToken.None);
        census.WrappedByKek.Values.Sum().ShouldBeGreaterThanOrEqualTo(7, "4 signing keys, 1 secret, 1 Data Protection key and 1 attestation key");
        return (hash, kid, cookie, attestationKid, census.WrappedByKek.Values.Sum());
    }
}
