using System.Data.Common;
using System.Globalization;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Compliance.Testing;

/// <summary>Raw SQL on a store, for tests that look at or tamper with what the service wrote.</summary>
public static class StoreSql
{
    public static DbConnection Connect(StoreConnection store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.Provider == DatabaseProvider.PostgreSQL
            ? new NpgsqlConnection(store.ConnectionString)
            : new SqliteConnection(store.ConnectionString);
    }

    public static async Task<long> CountAsync(StoreConnection store, string sql) =>
        Convert.ToInt64(await ScalarAsync(store, sql), CultureInfo.InvariantCulture);

    public static async Task<object?> ScalarAsync(StoreConnection store, string sql)
    {
        await using var connection = Connect(store);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public static async Task ExecuteAsync(StoreConnection store, string sql)
    {
        await using var connection = Connect(store);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
