using Compliance.Audit;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys.Attestation;
using Compliance.Keys.DataProtection;
using Compliance.Keys.Encryption;
using Compliance.Keys.Escrow;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Keys;

/// <summary>Registers key custody.</summary>
public static class KeysServiceCollectionExtensions
{
    /// <summary>
    /// Registers key custody: <see cref="KeysOptions"/> (section <c>Keys</c>, validated at start-up), the local-file
    /// <see cref="IKeyEncryptionKey"/> (unless another KEK was registered before), the <see cref="ISigningKeys"/> ring, the
    /// <see cref="IAttestationKeys"/>,
    /// the <see cref="IKeyedHash"/>, <see cref="IKekProvisioning"/>, this module's tables in the compliance store, a
    /// start-up check that refuses a missing local KEK unless it may be created (see
    /// <see cref="KeysOptions.CreateKekIfMissing"/>), and a hosted service that ensures and rotates the signing keys at
    /// start-up (after the schema gate) and every hour. Requires
    /// <c>AddComplianceData</c>. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceKeys(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(KeysMarker)))
        {
            return services;
        }

        services.AddSingleton<KeysMarker>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<KeysOptions>().Bind(configuration.GetSection(KeysOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeysOptions>, KeysOptionsValidator>());
        services.AddComplianceModelPart<KeysModelPart>();

        // Key creations and purges are audited (keys.signing_key_created, keys.signing_keys_purged).
        services.AddComplianceAudit();
        services.TryAddSingleton(provider => KeyEncryptionKeys.Create(
            provider.GetRequiredService<IOptions<KeysOptions>>().Value,
            provider.GetRequiredService<IOptions<StorageOptions>>().Value,
            provider.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<IKeyEncryptionKey>(provider => provider.GetRequiredService<KeyEncryptionKeys>());
        services.TryAddSingleton<ISigningKeys, SigningKeyRing>();
        services.TryAddSingleton<IKeyedHash, KeyedHash>();
        services.TryAddSingleton<IAttestationKeys, AttestationKeyRing>();
        services.TryAddSingleton<KekProvisioning>();
        services.TryAddSingleton<IKekRotation, KekRotation>();
        services.TryAddSingleton<IKekEscrow, KekEscrow>();
        services.TryAddSingleton<IKekProvisioning>(provider => provider.GetRequiredService<KekProvisioning>());

        // Registered before the rotation: its StartingAsync runs after the schema gate's and before any key is wrapped.
        services.AddHostedService<KekStartupCheck>();
        services.AddHostedService<KeyRotationService>();

        // The Data Protection key ring (session cookies, antiforgery, interaction tokens): shared by every node
        // through the compliance store, each key wrapped by the KEK.
        services.AddDataProtection().SetApplicationName("Compliance");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceScopeFactory, IKeyEncryptionKey, TimeProvider, ILoggerFactory>((options, scopes, kek, time, loggers) =>
        {
            options.XmlRepository = new StoreXmlRepository(scopes, kek, time, loggers.CreateLogger<StoreXmlRepository>());
            options.XmlEncryptor = new KekXmlEncryptor(kek);
        });
        return services;
    }

    private sealed class KeysMarker;
}
