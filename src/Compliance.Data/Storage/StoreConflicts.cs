using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Compliance.Data.Storage;

/// <summary>
/// Recognises the write that lost a race: an insert of a key that another request or node stored first. Only a unique
/// or primary-key violation is one. Any other constraint (a foreign key, a NOT NULL, a CHECK) is a real failure, which
/// a caller that treats a conflict as "already done" must never swallow.
/// </summary>
public static class StoreConflicts
{
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;

    /// <summary>True for PostgreSQL's unique_violation or SQLite's unique or primary-key constraint, bare or inside EF's <see cref="DbUpdateException"/>.</summary>
    public static bool IsUniqueViolation(Exception exception) =>
        (exception is DbUpdateException { InnerException: { } inner } ? inner : exception) switch
        {
            PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
            SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
            _ => false,
        };
}
