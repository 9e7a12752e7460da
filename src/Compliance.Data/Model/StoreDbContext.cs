using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
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

    /// <summary>
    /// Rolls back a transaction left open before the context goes (back to its pool, or away): the rollback is what
    /// would happen anyway, and doing it here, through EF, lets the SQLite write gate see it and let the next writer in.
    /// </summary>
    public override void Dispose()
    {
        OpenTransaction()?.Rollback();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="Dispose"/>
    public override async ValueTask DisposeAsync()
    {
        if (OpenTransaction() is { } open)
        {
            await open.RollbackAsync();
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

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

    // A pooled context is disposed once per lease and stays usable; a plain one may be disposed twice.
    private IDbContextTransaction? OpenTransaction()
    {
        try
        {
            return Database.CurrentTransaction;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }
}
