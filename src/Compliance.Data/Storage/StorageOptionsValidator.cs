using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Compliance.Data.Storage;

/// <summary>
/// Checks the storage settings before anything opens a database, so that a typo stops the host with a message
/// that names the setting and the reason. Messages never echo a connection string: it may hold a password.
/// </summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!Enum.TryParse<DatabaseProvider>(options.Provider, ignoreCase: true, out var provider) || !Enum.IsDefined(provider)
            || int.TryParse(options.Provider, out _))
        {
            failures.Add($"Storage:Provider: unknown provider '{Truncate(options.Provider)}'; expected 'Sqlite' or 'PostgreSQL'.");
            return ValidateOptionsResult.Fail(failures);
        }

        if (provider == DatabaseProvider.Sqlite)
        {
            ValidateSqlite(options, failures);
        }
        else
        {
            ValidatePostgres(options, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateSqlite(StorageOptions options, List<string> failures)
    {
        string directory;
        try
        {
            directory = options.ResolveDataDirectory();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            failures.Add($"Storage:DataDirectory: '{Truncate(options.DataDirectory)}' is not a valid path.");
            return;
        }

        if (DataDirectoryProblem(directory) is { } problem)
        {
            failures.Add($"Storage:DataDirectory: {problem}");
        }

        foreach (var (setting, value) in SqliteSettings(options))
        {
            if (value is null)
            {
                continue;
            }

            try
            {
                var builder = new SqliteConnectionStringBuilder(value);
                if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.Mode is SqliteOpenMode.Memory)
                {
                    failures.Add($"{setting}: a SQLite connection string must name a database file (Data Source=...).");
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
            {
                failures.Add($"{setting}: not a valid SQLite connection string ({e.GetType().Name}).");
            }
        }
    }

    private static IEnumerable<(string Setting, string? Value)> SqliteSettings(StorageOptions options) =>
    [
        ("Storage:ComplianceConnectionString", Blank(options.ComplianceConnectionString)),
        ("Storage:VaultConnectionString", Blank(options.VaultConnectionString)),
    ];

    private static void ValidatePostgres(StorageOptions options, List<string> failures)
    {
        var compliance = ParsePostgres("Storage:ComplianceConnectionString", options.ComplianceConnectionString, failures);
        var vault = ParsePostgres("Storage:VaultConnectionString", options.VaultConnectionString, failures);
        if (compliance is not null && vault is not null
            && string.Equals(compliance.Host, vault.Host, StringComparison.OrdinalIgnoreCase)
            && compliance.Port == vault.Port
            && string.Equals(compliance.Database, vault.Database, StringComparison.Ordinal))
        {
            failures.Add("Storage:VaultConnectionString: the vault must be a separate database from the compliance store "
                + "(both name the same host, port and database).");
        }
    }

    private static NpgsqlConnectionStringBuilder? ParsePostgres(string setting, string? value, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{setting}: required when Storage:Provider is PostgreSQL.");
            return null;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                failures.Add($"{setting}: the connection string names no Host.");
            }

            if (string.IsNullOrWhiteSpace(builder.Database))
            {
                failures.Add($"{setting}: the connection string names no Database.");
            }

            return builder;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            // The parser's message can quote the offending fragment, which may be a password: give only its kind.
            failures.Add($"{setting}: not a valid PostgreSQL connection string (unknown keyword or malformed value).");
            return null;
        }
    }

    private const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>
    /// Creates the folder owner-only if missing, refuses one that other users may read or write, then proves it is
    /// writable with a probe file.
    /// </summary>
    private static string? DataDirectoryProblem(string directory)
    {
        try
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            // The folder holds the databases and, by default, the key-encryption key: other users may only traverse it.
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(directory) & OpenToOthers) != 0)
            {
                var mode = File.GetUnixFileMode(directory) & (UnixFileMode)0x1FF;
                return $"the folder '{directory}' is open to other users (mode {Convert.ToString((int)mode, 8)}); "
                    + "restrict it to its owner (chmod 700): it holds the databases and the key-encryption key.";
            }

            var probe = Path.Combine(directory, $".write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"the folder '{directory}' is not writable by this process (permission denied).";
        }
        catch (IOException e)
        {
            return $"the folder '{directory}' cannot be created or written ({e.GetType().Name}).";
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string Truncate(string? value) =>
        value is null ? "" : value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");
}
