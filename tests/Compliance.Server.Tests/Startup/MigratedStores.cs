using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Jobs.Store;
using Compliance.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Server.Tests.Startup;

/// <summary>New stores, migrated as `compliance migrate` would, with a data folder (and key file) of their own.</summary>
internal static class MigratedStores
{
    /// <summary>
    /// The compliance and vault stores, migrated; on PostgreSQL also the job store's schema (<c>hangfire</c> in the
    /// compliance database) unless <paramref name="jobStore"/> is false.
    /// </summary>
    public static async Task<Dictionary<string, string?>> CreateAsync(EmptyStores empty, DatabaseProvider provider, string dataDirectory, bool jobStore = true)
    {
        var settings = provider == DatabaseProvider.PostgreSQL
            ? await empty.CreateSettingsAsync(DatabaseProvider.PostgreSQL)
            : new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite" };
        settings["Storage:DataDirectory"] = dataDirectory;

        var options = new StorageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(StorageOptions.SectionName).Bind(options);
        foreach (var store in Enum.GetValues<Store>())
        {
            await new SchemaMigrator(options.ConnectionFor(store), TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        }

        if (provider == DatabaseProvider.PostgreSQL && jobStore)
        {
            await new JobStoreMigrator(options.ConnectionFor(Store.Compliance).ConnectionString, "hangfire", TimeProvider.System, NullLogger.Instance)
                .MigrateAsync(CancellationToken.None);
        }

        return settings;
    }
}
