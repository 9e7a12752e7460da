using System.Globalization;
using Npgsql;

namespace Compliance.Testing;

/// <summary>
/// The PostgreSQL server of this test run, started by <c>./test.sh</c>, which exports its administrator connection
/// string as <c>COMPLIANCE_TEST_POSTGRES</c>. Without it the PostgreSQL tests fail: they are never silently skipped.
/// </summary>
public static class PostgresServer
{
    public const string Variable = "COMPLIANCE_TEST_POSTGRES";

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set. Run the suite with ./test.sh, which starts a throwaway PostgreSQL server; "
                + "or export an administrator connection string to a disposable server.");

    /// <summary>A connection string to <paramref name="database"/> on the test server.</summary>
    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    /// <summary>A fresh, unique, empty database name.</summary>
    public static string NewDatabaseName(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Guid.NewGuid():N}")[..Math.Min(prefix.Length + 33, 63)];

    public static async Task CreateDatabaseAsync(string name, string? template = null)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = template is null
            ? $"CREATE DATABASE \"{name}\""
            : $"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"";
        await command.ExecuteNonQueryAsync();
    }

    public static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
        await command.ExecuteNonQueryAsync();
    }
}
