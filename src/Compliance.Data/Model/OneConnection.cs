using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Compliance.Data.Model;

/// <summary>Work that runs its reads and writes on one connection of a pooled context.</summary>
public static class OneConnection
{
    /// <summary>
    /// Opens the context's connection, runs <paramref name="work"/> on it, and closes it again, whatever happens: a
    /// connection opened by hand is closed by hand, before the pooled context goes back to its pool. One connection
    /// for a request's statements, instead of one opened and closed around each.
    /// </summary>
    public static async Task<T> RunAsync<T>(DatabaseFacade database, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(work);
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            return await work();
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <inheritdoc cref="RunAsync{T}"/>
    public static Task RunAsync(DatabaseFacade database, Func<Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(database, async () =>
        {
            await work();
            return true;
        }, cancellationToken);
    }
}
