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
            builder.UseNpgsql(WithAutoPrepare(store.ConnectionString));
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

    /// <summary>
    /// Npgsql prepares the statements a connection runs often (code exchange, refresh, session checks), so PostgreSQL
    /// parses and plans them once per connection instead of on every request. An operator who sets
    /// <c>Max Auto Prepare</c> (for example 0 behind a pooler that cannot keep prepared statements) keeps that value.
    /// </summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (keys.ContainsKey("Max Auto Prepare") || keys.ContainsKey("MaxAutoPrepare"))
        {
            return connectionString;
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64 }.ConnectionString;
    }
}
