using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Compliance.Data.Storage;

/// <summary>
/// Creates a SQLite database file owner-only (0600) before SQLite opens it: SQLite itself would create it 0644 less
/// the umask. SQLite gives the <c>-wal</c>, <c>-shm</c> and <c>-journal</c> files the mode of their database, so
/// they are owner-only too.
/// </summary>
internal static class SqliteDatabaseFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // Connection strings whose file is known to exist: a context is configured per request, a stat is not needed.
    private static readonly ConcurrentDictionary<string, byte> Existing = new(StringComparer.Ordinal);

    public static void EnsureOwnerOnly(string connectionString, bool remember = false)
    {
        if (OperatingSystem.IsWindows() || (remember && Existing.ContainsKey(connectionString)))
        {
            return;
        }

        string path;
        try
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            var source = builder.DataSource;
            if (builder.Mode is not SqliteOpenMode.ReadWriteCreate || string.IsNullOrWhiteSpace(source)
                || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            path = Path.GetFullPath(source);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or NotSupportedException or PathTooLongException)
        {
            return; // The options validator names the setting; SQLite's open reports anything else.
        }

        if (!File.Exists(path))
        {
            try
            {
                // An empty file is an empty SQLite database.
                using var created = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    Share = FileShare.ReadWrite,
                    UnixCreateMode = OwnerOnly,
                });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another connection or node created it first, owner-only as well.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return; // SQLite's open fails next and reports it with the setting's name.
            }
        }

        if (remember)
        {
            Existing.TryAdd(connectionString, 0);
        }
    }
}
