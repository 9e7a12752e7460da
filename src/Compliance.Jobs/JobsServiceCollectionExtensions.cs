using Compliance.Jobs.Telemetry;
using Compliance.Data.Storage;
using Compliance.Jobs.Health;
using Compliance.Jobs.Store;
using Compliance.Jobs.Work;
using Hangfire;
using Hangfire.Common;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Compliance.Jobs;

/// <summary>Registers the job store, the job client, the reconciler and, on nodes that run jobs, the job server.</summary>
public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// The job store follows <c>Storage:Provider</c> (Hangfire.PostgreSql or Hangfire.InMemory). Every Hangfire object
    /// is built from this container, never from Hangfire's global configuration, so two hosts in one process (tests)
    /// keep their own stores. With <c>Jobs:Server=true</c> (the default) this node also runs jobs. Requires
    /// <c>AddComplianceData</c>. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddComplianceJobs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(JobsMarker)))
        {
            return services;
        }

        services.AddSingleton<JobsMarker>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>());
        services.AddMetrics();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<JobStateFilter>();
        services.AddSingleton(provider => JobStoreSettings.From(
            provider.GetRequiredService<IOptions<StorageOptions>>().Value, provider.GetRequiredService<IOptions<JobsOptions>>().Value));
        services.AddSingleton(provider => CreateStorage(
            provider.GetRequiredService<JobStoreSettings>(), provider.GetRequiredService<IOptions<JobsOptions>>().Value));
        services.AddSingleton<IJobFilterProvider>(provider => new JobFilterProviderCollection(
            JobFilterProviders.Providers, new JobFilterCollection { provider.GetRequiredService<JobStateFilter>() }));
        services.AddSingleton<IBackgroundJobClient>(provider => new BackgroundJobClient(
            provider.GetRequiredService<JobStorage>(), provider.GetRequiredService<IJobFilterProvider>()));
        services.AddSingleton<IRecurringJobManager>(provider => new RecurringJobManager(
            provider.GetRequiredService<JobStorage>(), provider.GetRequiredService<IJobFilterProvider>()));
        services.AddSingleton<IJobScheduler, HangfireJobScheduler>();
        services.AddScoped<DueWorkJob>();
        services.AddScoped<Reconciler>();
        services.TryAddScoped<RecurringWorkJob>();
        services.AddSingleton<JobServerIdentity>();

        // After the stores' schema gate (registered by AddComplianceData), before the job server starts.
        services.AddHostedService<JobStoreStartupGate>();
        var checks = services.AddHealthChecks().AddCheck<JobStoreHealthCheck>("job-store", HealthStatus.Unhealthy, ["ready"]);
        if (configuration.GetSection(JobsOptions.SectionName).GetValue(nameof(JobsOptions.Server), defaultValue: true))
        {
            services.AddHostedService<JobServerHost>();
            checks.AddCheck<JobServerHeartbeatCheck>("job-server", HealthStatus.Unhealthy, ["ready"]);
        }

        return services;
    }

    /// <summary>Adds a kind of due work, which the reconciler and <see cref="DueWorkJob"/> then drive. Safe to call twice.</summary>
    public static IServiceCollection AddDueWork<TWork>(this IServiceCollection services)
        where TWork : class, IDueWork
    {
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDueWork, TWork>());
        return services;
    }

    /// <summary>Adds a kind of recurring work; every node with a job server schedules it. Safe to call twice.</summary>
    public static IServiceCollection AddRecurringWork<TWork>(this IServiceCollection services)
        where TWork : class, IRecurringWork
    {
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IRecurringWork, TWork>());
        return services;
    }

    private static JobStorage CreateStorage(JobStoreSettings settings, JobsOptions jobs) => settings.Kind switch
    {
        JobStoreKind.PostgreSql => new PostgreSqlStorage(
            new NpgsqlConnectionFactory(settings.ConnectionString!, new PostgreSqlStorageOptions { SchemaName = settings.Schema }),
            new PostgreSqlStorageOptions
            {
                SchemaName = settings.Schema,
                // The schema is installed by `compliance migrate --store jobs` (or MigrateOnStart), never by a running node.
                PrepareSchemaIfNecessary = false,
                // A job caught mid-run by a crash is fetched again after this; the reconciler's lease is shorter anyway.
                InvisibilityTimeout = TimeSpan.FromMinutes(30),
                QueuePollInterval = TimeSpan.FromSeconds(2),
                // A lock left by a node killed while it held it (Hangfire's schedulers take theirs for moments).
                DistributedLockTimeout = TimeSpan.FromSeconds(jobs.LockTimeoutSeconds),
                EnableLongPolling = true,
            }),
        _ => new InMemoryStorage(new InMemoryStorageOptions { IdType = InMemoryStorageIdType.Guid }),
    };

    private sealed class JobsMarker;
}
