using System.Globalization;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Compliance.Server.Hosting;

/// <summary>
/// Names a store for the start-up log: the SQLite file, or PostgreSQL's host, port and database. Only those parts are
/// read out of the connection string, so a password or any other keyword can never reach the log.
/// </summary>
internal static class StoreDescription
{
    public static string Of(StoreConnection connection)
    {
        try
        {
            if (connection.Provider == DatabaseProvider.PostgreSQL)
            {
                var postgres = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
                return string.Create(CultureInfo.InvariantCulture, $"{postgres.Host}:{postgres.Port}/{postgres.Database}");
            }

            return new SqliteConnectionStringBuilder(connection.ConnectionString).DataSource;
        }
        catch (ArgumentException)
        {
            return "(unreadable connection string)";
        }
    }
}
