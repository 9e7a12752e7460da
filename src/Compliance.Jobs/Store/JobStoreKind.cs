using Compliance.Data.Storage;

namespace Compliance.Jobs.Store;

/// <summary>Where jobs are kept: follows <c>Storage:Provider</c>.</summary>
public enum JobStoreKind
{
    /// <summary>The embedded default: Hangfire.InMemory. Our tables and the reconciler are the only durability.</summary>
    InMemory,

    /// <summary>Hangfire.PostgreSql in the <c>Jobs:Schema</c> schema, installed by <c>compliance migrate --store jobs</c>.</summary>
    PostgreSql,
}

/// <summary>The job store that a node's settings name.</summary>
public sealed record JobStoreSettings(JobStoreKind Kind, string? ConnectionString, string Schema)
{
    /// <summary>Reads the job store from the storage and jobs settings.</summary>
    public static JobStoreSettings From(StorageOptions storage, JobsOptions jobs)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(jobs);
        return storage.ParsedProvider == DatabaseProvider.PostgreSQL
            ? new JobStoreSettings(
                JobStoreKind.PostgreSql,
                string.IsNullOrWhiteSpace(jobs.ConnectionString) ? storage.ConnectionFor(Compliance.Data.Storage.Store.Compliance).ConnectionString : jobs.ConnectionString,
                jobs.Schema)
            : new JobStoreSettings(JobStoreKind.InMemory, null, jobs.Schema);
    }

    /// <summary>For logs: never the connection string.</summary>
    public override string ToString() => Kind == JobStoreKind.PostgreSql ? $"PostgreSQL schema {Schema}" : "in memory";
}
