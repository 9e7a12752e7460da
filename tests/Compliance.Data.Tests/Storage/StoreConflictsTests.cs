using Compliance.Data.Storage;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Compliance.Data.Tests.Storage;

/// <summary>
/// A caller that takes a conflict for "already done" (a replayed idempotency key, a key another node stored first)
/// must see only a duplicate key as one. The errors here are the drivers' own, raised by real constraints.
/// </summary>
public sealed class StoreConflictsTests
{
    private const string Table = """
        CREATE TEMP TABLE conflict_probe (
            id integer PRIMARY KEY,
            name text NOT NULL UNIQUE,
            parent integer REFERENCES conflict_probe (id),
            size integer CHECK (size > 0))
        """;

    public static TheoryData<string, bool> Writes => new()
    {
        { "INSERT INTO conflict_probe (id, name) VALUES (1, 'other')", true },
        { "INSERT INTO conflict_probe (id, name) VALUES (2, 'first')", true },
        { "INSERT INTO conflict_probe (id, name) VALUES (2, NULL)", false },
        { "INSERT INTO conflict_probe (id, name, parent) VALUES (2, 'second', 99)", false },
        { "INSERT INTO conflict_probe (id, name, size) VALUES (2, 'second', 0)", false },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public void Sqlite_OnlyADuplicateKeyIsAConflict(string write, bool conflict)
    {
        using var connection = new SqliteConnection("Data Source=:memory:;Foreign Keys=True");
        connection.Open();
        Execute(connection, Table);
        Execute(connection, "INSERT INTO conflict_probe (id, name) VALUES (1, 'first')");

        var error = Should.Throw<SqliteException>(() => Execute(connection, write));

        StoreConflicts.IsUniqueViolation(error).ShouldBe(conflict, error.Message);
        StoreConflicts.IsUniqueViolation(new DbUpdateException("saving", error)).ShouldBe(conflict, "inside EF's exception too");
    }

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task Postgres_OnlyADuplicateKeyIsAConflict(string write, bool conflict)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, Table);
        await ExecuteAsync(connection, "INSERT INTO conflict_probe (id, name) VALUES (1, 'first')");

        var error = await Should.ThrowAsync<PostgresException>(() => ExecuteAsync(connection, write));

        StoreConflicts.IsUniqueViolation(error).ShouldBe(conflict, error.Message);
        StoreConflicts.IsUniqueViolation(new DbUpdateException("saving", error)).ShouldBe(conflict, "inside EF's exception too");
    }

    [Fact]
    public void AnyOtherError_IsNoConflict()
    {
        StoreConflicts.IsUniqueViolation(new InvalidOperationException("no")).ShouldBeFalse();
        StoreConflicts.IsUniqueViolation(new DbUpdateException("saving")).ShouldBeFalse();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
