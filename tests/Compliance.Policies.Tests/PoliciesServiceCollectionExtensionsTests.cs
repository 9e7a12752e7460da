using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compliance.Policies.Tests;

public class PoliciesServiceCollectionExtensionsTests
{
    [Fact]
    public async Task StartAsync_BrokenPolicyDirectory_ThrowsBeforeTheHostServes()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", "legalBasis: provision-of-care", "legalBasis: provision-of-cure");
        var served = new ServingProbe();
        using var host = BuildHost(policies.Path, served);

        var exception = await Should.ThrowAsync<PolicyValidationException>(() => host.StartAsync());

        exception.Errors.ShouldContain(error => error.File == "purposes.yaml");
        served.Started.ShouldBeFalse();
    }

    [Fact]
    public async Task StartAsync_MissingPolicyDirectory_Throws()
    {
        using var host = BuildHost(Path.Combine(Path.GetTempPath(), "compliance-policies-missing-" + Guid.NewGuid().ToString("N")), new ServingProbe());

        await Should.ThrowAsync<PolicyValidationException>(() => host.StartAsync());
    }

    [Fact]
    public async Task StartAsync_ShippedPolicies_StartsAndServesThePolicySet()
    {
        var served = new ServingProbe();
        using var host = BuildHost(PolicyDirectory.Shipped, served);

        await host.StartAsync();

        served.Started.ShouldBeTrue();
        host.Services.GetRequiredService<PolicySet>().FindPurpose("care").ShouldNotBeNull();
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_EventsReferenceADeletedPurpose_RefusesToStartWithOneErrorEach()
    {
        var served = new ServingProbe();
        using var host = BuildHost(PolicyDirectory.Shipped, served, new FixedReferences([new("marketing", null), new("research", "2024-01"), new("research", "2025-09")]));

        var exception = await Should.ThrowAsync<PolicyValidationException>(() => host.StartAsync());

        exception.Errors.Select(e => e.Message).ShouldBe([
            "purpose 'marketing' is referenced by consent events: retire it (retired: true) instead of deleting it",
            "notice version '2024-01' of purpose 'research' is referenced by consent events: retire it (retired: true) instead of deleting it",
        ]);
        served.Started.ShouldBeFalse();
    }

    [Fact]
    public async Task StartAsync_EventsReferenceOnlyDeclaredIds_Starts()
    {
        var served = new ServingProbe();
        using var host = BuildHost(PolicyDirectory.Shipped, served, new FixedReferences([new("research", "2025-09"), new("newsletter", null)]));

        await host.StartAsync();

        served.Started.ShouldBeTrue();
        await host.StopAsync();
    }

    [Fact]
    public void AddCompliancePolicies_CalledTwice_RegistersOneStartupCheckAndOneBinding()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Policies:Directory"] = PolicyDirectory.Shipped })
            .Build();

        services.AddCompliancePolicies(configuration).AddCompliancePolicies(configuration);

        services.Count(descriptor => descriptor.ServiceType == typeof(IHostedService)).ShouldBe(1);
        services.Count(descriptor => descriptor.ServiceType == typeof(PolicySet)).ShouldBe(1);
    }

    [Fact]
    public void ResolveDirectory_NotConfigured_DefaultsToPoliciesNextToTheApplication()
    {
        var options = new PolicyOptions();

        options.ResolveDirectory().ShouldBe(Path.Combine(AppContext.BaseDirectory, "policies"));
    }

    [Fact]
    public void ResolveDirectory_RelativePath_IsResolvedAgainstTheApplicationDirectory()
    {
        var options = new PolicyOptions { Directory = "custom-policies" };

        options.ResolveDirectory().ShouldBe(Path.Combine(AppContext.BaseDirectory, "custom-policies"));
    }

    private static IHost BuildHost(string directory, ServingProbe served, IPolicyReferences? references = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Policies:Directory"] = directory });
        builder.Logging.ClearProviders();
        builder.Services.AddCompliancePolicies(builder.Configuration);
        if (references is not null)
        {
            builder.Services.AddSingleton(references);
        }

        // Stands for the web server: registered after the policies, as Program.cs would.
        builder.Services.AddSingleton<IHostedService>(served);
        return builder.Build();
    }

    // What the consent ledger would answer: a fixed list of referenced ids.
    private sealed class FixedReferences(IReadOnlyList<PolicyReference> referenced) : IPolicyReferences
    {
        public Task<IReadOnlyList<PolicyReference>> ReferencedAsync(CancellationToken ct) => Task.FromResult(referenced);
    }

    private sealed class ServingProbe : IHostedService
    {
        public bool Started { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
