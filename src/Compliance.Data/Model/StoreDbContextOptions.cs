using Compliance.Data.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Compliance.Data.Model;

/// <summary>Points a context at a store on its provider.</summary>
public static class StoreDbContextOptions
{
    /// <summary>Configures the provider and connection of <paramref name="store"/>.</summary>
    public static DbContextOptionsBuilder UseStore(this DbContextOptionsBuilder builder, StoreConnection store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        if (store.Provider == DatabaseProvider.PostgreSQL)
        {
            builder.UseNpgsql(store.ConnectionString);
        }
        else
        {
            SqliteDatabaseFile.EnsureOwnerOnly(store.ConnectionString, remember: true);
            builder.UseSqlite(store.ConnectionString);
            if (SqliteWriteGate.For(store.ConnectionString) is { } gate)
            {
                builder.AddInterceptors(gate);
            }
        }

        builder.ReplaceService<IModelCacheKeyFactory, ComplianceModelCacheKeyFactory>();
        return builder;
    }
}
