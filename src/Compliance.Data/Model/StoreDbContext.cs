using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Compliance.Data.Model;

/// <summary>
/// Conventions shared by both stores' contexts, so that one model maps alike on PostgreSQL and SQLite.
/// </summary>
public abstract class StoreDbContext(DbContextOptions options) : DbContext(options)
{
    private static readonly DateTimeOffsetToBinaryConverter SqliteTime = new();

    /// <summary>A time as this store keeps it, for a raw SQL parameter (the model's conversion does not apply there).</summary>
    public object StoredTime(DateTimeOffset value) => Database.IsSqlite() ? SqliteTime.ConvertToProvider(value)! : value;

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        if (Database.IsSqlite())
        {
            // SQLite has no date type; a sortable integer keeps range queries and ordering in the database.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }
}
