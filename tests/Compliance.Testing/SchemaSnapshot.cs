using System.Data.Common;
using System.Text;
using System.Text.RegularExpressions;
using Compliance.Data.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Compliance.Testing;

/// <summary>
/// A provider-neutral description of a database's schema, read from the catalogue: tables, columns with type and
/// nullability, primary keys, indexes, check constraints and foreign keys. Two snapshots are equal when the
/// schemas are; the migrations' own <c>schema_history</c> table is left out.
/// </summary>
public sealed partial record SchemaSnapshot(IReadOnlyList<string> Lines)
{
    public override string ToString() => string.Join('\n', Lines);

    public bool Equals(SchemaSnapshot? other) => other is not null && Lines.SequenceEqual(other.Lines);

    public override int GetHashCode() => Lines.Count;

    public static async Task<SchemaSnapshot> ReadAsync(StoreConnection store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var lines = store.Provider == DatabaseProvider.PostgreSQL
            ? await ReadPostgresAsync(store.ConnectionString)
            : await ReadSqliteAsync(store.ConnectionString);
        return new SchemaSnapshot([.. lines.Order(StringComparer.Ordinal)]);
    }

    private static async Task<List<string>> ReadPostgresAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var lines = new List<string>();
        await ReadAsync(connection, """
            SELECT table_name, column_name, data_type, coalesce(character_maximum_length, 0), is_nullable, is_identity
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> 'schema_history'
            """, r => lines.Add($"column {r.GetString(0)}.{r.GetString(1)} {r.GetString(2)}({r.GetInt32(3)}) null={r.GetString(4)} identity={r.GetString(5)}"));
        await ReadAsync(connection, """
            SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname <> 'schema_history'
            """, r => lines.Add($"constraint {r.GetString(0)}.{r.GetString(1)} {r.GetChar(2)} {Normalize(r.GetString(3))}"));
        await ReadAsync(connection, """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' AND tablename <> 'schema_history'
            """, r => lines.Add($"index {r.GetString(0)}.{r.GetString(1)} {Normalize(r.GetString(2))}"));
        return lines;
    }

    private static async Task<List<string>> ReadSqliteAsync(string connectionString)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<(string Name, string Sql)>();
        await ReadAsync(connection,
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_history'",
            r => tables.Add((r.GetString(0), r.GetString(1))));

        var lines = new List<string>();
        foreach (var (table, sql) in tables)
        {
            await ReadAsync(connection, $"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')",
                r => lines.Add($"column {table}.{r.GetString(0)} {r.GetString(1)} notnull={r.GetInt64(2)} pk={r.GetInt64(3)}"));
            await ReadAsync(connection, $"SELECT name, \"unique\", origin FROM pragma_index_list('{table}')",
                r => lines.Add($"index {table}.{r.GetString(0)} unique={r.GetInt64(1)} origin={r.GetString(2)}"));
            await ReadAsync(connection, $"SELECT i.name, c.seqno, c.name FROM pragma_index_list('{table}') i, pragma_index_info(i.name) c",
                r => lines.Add($"index-column {table}.{r.GetString(0)} {r.GetInt64(1)} {r.GetString(2)}"));
            await ReadAsync(connection, $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}')",
                r => lines.Add($"foreign-key {table}.{r.GetString(1)} -> {r.GetString(0)}.{r.GetString(2)} on-delete={r.GetString(3)}"));
            foreach (Match check in CheckConstraint().Matches(sql))
            {
                lines.Add($"check {table}.{check.Groups["name"].Value} {Normalize(check.Groups["body"].Value)}");
            }

            if (sql.Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase))
            {
                lines.Add($"autoincrement {table}");
            }
        }

        return lines;
    }

    private static async Task ReadAsync(DbConnection connection, string sql, Action<DbDataReader> row)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            row(reader);
        }
    }

    private static string Normalize(string sql)
    {
        var builder = new StringBuilder();
        foreach (var c in sql.Replace("\"", "", StringComparison.Ordinal))
        {
            if (!char.IsWhiteSpace(c) || (builder.Length > 0 && builder[^1] != ' '))
            {
                builder.Append(char.IsWhiteSpace(c) ? ' ' : c);
            }
        }

        return builder.ToString().Trim();
    }

    [GeneratedRegex("""CONSTRAINT\s+"?(?<name>\w+)"?\s+CHECK\s*\((?<body>(?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)""", RegexOptions.IgnoreCase)]
    private static partial Regex CheckConstraint();
}
