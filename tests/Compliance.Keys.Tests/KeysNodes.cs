using Compliance.Data.Model;
using Compliance.Keys.Attestation;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Keys.Tests;

/// <summary>
/// Service nodes on one test class's stores: each node is its own service provider (its own caches), as separate
/// processes would be, sharing the database, a key-encryption key file and a fake clock.
/// </summary>
internal sealed class KeysNodes : IAsyncDisposable
{
    private readonly StoreFixture _stores;
    private readonly List<ServiceProvider> _providers = [];

    public KeysNodes(StoreFixture stores, Dictionary<string, string?>? keys = null)
    {
        _stores = stores;
        Directory = System.IO.Directory.CreateTempSubdirectory("compliance-keys-").FullName;
        KekPath = Path.Combine(Directory, "custody", "kek.key");
        Keys = keys ?? [];
    }

    public string Directory { get; }

    public string KekPath { get; }

    public FakeTimeProvider Time { get; } = new();

    public Dictionary<string, string?> Keys { get; }

    /// <summary>
    /// A new node; <paramref name="kekPath"/> gives it another key-encryption key file than the others, and
    /// <paramref name="configure"/> adds services (a capturing log provider).
    /// </summary>
    public ServiceProvider Node(string? kekPath = null, Action<IServiceCollection>? configure = null)
    {
        var settings = new Dictionary<string, string?>(Keys) { ["Keys:LocalKekPath"] = kekPath ?? KekPath };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var provider = StoreServices.Build(_stores, services => services
            .Replace(ServiceDescriptor.Singleton<TimeProvider>(Time))
            .AddComplianceKeys(configuration)
            .Apply(configure));
        _providers.Add(provider);
        return provider;
    }

    /// <summary>Empties this module's tables, so that each test of a class starts from a store without keys.</summary>
    public async Task ClearStoreAsync()
    {
        await using var provider = StoreServices.Build(_stores, services => services.AddComplianceKeys(new ConfigurationBuilder().Build()));
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        await db.Set<SigningKey>().ExecuteDeleteAsync();
        await db.Set<KeyedHashSecret>().ExecuteDeleteAsync();
        await db.Set<AttestationKeyRecord>().ExecuteDeleteAsync();

        // The trail remembers every secret created, and refuses to create one again: a test starts from a new store.
        await db.Set<Compliance.Audit.Trail.AuditEvent>().ExecuteDeleteAsync();
    }

    /// <summary>Runs <paramref name="action"/> on a fresh context of the store.</summary>
    public async Task<T> WithStoreAsync<T>(Func<ComplianceDbContext, Task<T>> action)
    {
        await using var scope = (_providers.FirstOrDefault() ?? Node()).CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ComplianceDbContext>());
    }

    public Task<List<AttestationKeyRecord>> AttestationKeysAsync() =>
        WithStoreAsync(async db => (await db.Set<AttestationKeyRecord>().AsNoTracking().ToListAsync()).OrderBy(k => k.ValidFrom).ThenBy(k => k.CreatedAt).ToList());

    public Task<List<SigningKey>> SigningKeysAsync() =>
        WithStoreAsync(db => db.Set<SigningKey>().AsNoTracking().OrderBy(k => k.Algorithm).ThenBy(k => k.Generation).ToListAsync());

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is cleaned with the machine.
        }
    }
}

internal static class ServiceCollectionTestExtensions
{
    public static IServiceCollection Apply(this IServiceCollection services, Action<IServiceCollection>? configure)
    {
        configure?.Invoke(services);
        return services;
    }
}
