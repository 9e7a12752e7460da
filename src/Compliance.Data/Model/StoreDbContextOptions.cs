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
            builder.UseNpgsql(ForPooledContexts(store.ConnectionString));
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
    /// The connection settings of the contexts' pool, where the hot path runs. An operator who sets either key keeps
    /// the value written.
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare=64</c>: Npgsql prepares the statements a connection runs often (code exchange,
    /// refresh, session checks), so PostgreSQL parses and plans them once per connection, not on every request (0
    /// behind a pooler that cannot keep prepared statements).</item>
    /// <item><c>No Reset On Close=true</c>: a connection going back to the pool is not reset. With prepared statements,
    /// Npgsql's reset is seven statements (<c>CLOSE ALL</c>, <c>RESET ALL</c>, <c>pg_advisory_unlock_all()</c>...),
    /// which PostgreSQL ran before every request's first statement: about as many statements as the request's own. It
    /// only undoes session state, and the contexts set none: their advisory locks are <c>pg_advisory_xact_lock</c>,
    /// their settings <c>SET LOCAL</c>, both ended with the transaction, and Npgsql still rolls back a transaction
    /// left open. The migrator, which takes a session lock, connects with the store's own string, so through another
    /// pool, which keeps the reset (tests: <c>PostgresPooledContextSettingsTests</c>, <c>PooledConnectionStateTests</c>).</item>
    /// </list>
    /// </summary>
    internal static string ForPooledContexts(string connectionString)
    {
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var changed = false;
        if (!keys.ContainsKey("Max Auto Prepare") && !keys.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            changed = true;
        }

        if (!keys.ContainsKey("No Reset On Close") && !keys.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
            changed = true;
        }

        return changed ? builder.ConnectionString : connectionString;
    }
}
