using Compliance.Data.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Compliance.Keys.Tests;

public class KeysServiceCollectionExtensionsTests
{
    [Fact]
    public void AddComplianceKeys_CalledTwice_RegistersEachServiceOnce()
    {
        var configuration = new ConfigurationBuilder().Build();

        var services = new ServiceCollection().AddComplianceKeys(configuration).AddComplianceKeys(configuration);

        services.Count(d => d.ServiceType == typeof(ISigningKeys)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IKeyedHash)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IKeyEncryptionKey)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(Compliance.Keys.Signing.KeyRotationService)).ShouldBe(1);
        // Its own tables, and the audit trail's, where key creations and purges are recorded.
        services.Where(d => d.ServiceType == typeof(IComplianceModelPart)).Select(d => d.ImplementationType!.Name).Order(StringComparer.Ordinal)
            .ShouldBe(["AuditModelPart", "KeysModelPart"]);
    }

    [Fact]
    public void AddComplianceKeys_AnotherKekRegisteredFirst_KeepsIt()
    {
        var services = new ServiceCollection().AddSingleton<IKeyEncryptionKey, RemoteKek>();

        services.AddComplianceKeys(new ConfigurationBuilder().Build());

        services.Single(d => d.ServiceType == typeof(IKeyEncryptionKey)).ImplementationType.ShouldBe(typeof(RemoteKek));
    }

    private sealed class RemoteKek : IKeyEncryptionKey
    {
        public string KeyId => "remote";

        public string Custody => "remote";

        public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
