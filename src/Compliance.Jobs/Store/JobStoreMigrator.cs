using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Migrations;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Compliance.Jobs.Store;

/// <summary>
/// Installs or upgrades the PostgreSQL job store's schema with Hangfire.PostgreSql's own scripts, and records each
/// script version with the SHA-256 of its text in <c>{schema}.compliance_schema_history</c>, as our migrations are.
/// At run time nothing installs anything (<c>PrepareSchemaIfNecessary=false</c>): a node refuses to start on a missing,
/// outdated, newer or altered job schema.
/// </summary>
public sealed class JobStoreMigrator(string connectionString, string schema, TimeProvider time, ILogger logger)
{
    // Hangfire.PostgreSql's schema scripts, embedded in its assembly as Hangfire.PostgreSql.Scripts.Install.vN.sql.
    private static readonly Lazy<IReadOnlyList<(int Version, string Checksum)>> Scripts = new(LoadScripts);
    private static readonly Lazy<IReadOnlyDictionary<int, string>> Shipped = new(() => Scripts.Value.ToDictionary(s => s.Version, s => s.Checksum));

    // Any fixed number: serialises two nodes or two `compliance migrate --store jobs` runs on one database.
    private const long AdvisoryLockKey = 0x4A6F_6273_0000_0001;

    /// <summary>The job schema version this build's Hangfire.PostgreSql installs.</summary>
    public static int TargetVersion => Scripts.Value[^1].Version;

    /// <summary>Each script version this build ships, with the SHA-256 of its text.</summary>
    internal static IReadOnlyDictionary<int, string> ShippedScripts => Shipped.Value;

    public async Task<JobStoreStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadStatusAsync(connection, cancellationToken);
    }

    /// <summary>Installs or upgrades the schema and records what was applied. Refuses a newer or altered schema.</summary>
    public async Task<JobStoreStatus> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            var before = await ReadStatusAsync(connection, cancellationToken);
            EnsureNotDiverged(before);
            var stopwatch = Stopwatch.StartNew();
            if (before.InstalledVersion < TargetVersion)
            {
                try
                {
                    PostgreSqlObjectsInstaller.Install(connection, schema);
                }
                catch (PostgresException e)
                {
                    // Typically a role that may not create the schema or its tables (the runtime role): one line, not a trace.
                    throw new SchemaNotReadyException(
                        $"Hangfire.PostgreSql could not install the job store schema '{schema}': {e.MessageText} (SQLSTATE {e.SqlState}); nothing was recorded. "
                        + "Run `compliance migrate --store jobs` as the role that owns the schema, or may create it in this database.", e);
                }
            }

            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS "{schema}".compliance_schema_history (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL,
                    applied_by text NOT NULL,
                    execution_ms bigint NOT NULL)
                """, cancellationToken);
            var installed = await ReadInstalledVersionAsync(connection, cancellationToken);
            var applied = new List<int>();
            foreach (var (version, checksum) in Scripts.Value.Where(s => s.Version <= installed && !before.Recorded.ContainsKey(s.Version)))
            {
                await using var record = new NpgsqlCommand($"""
                    INSERT INTO "{schema}".compliance_schema_history (version, name, checksum, applied_at, applied_by, execution_ms)
                    VALUES (@version, @name, @checksum, @at, @by, @ms) ON CONFLICT (version) DO NOTHING
                    """, connection);
                record.Parameters.AddWithValue("version", version);
                record.Parameters.AddWithValue("name", $"Hangfire.PostgreSql Install.v{version}");
                record.Parameters.AddWithValue("checksum", checksum);
                record.Parameters.AddWithValue("at", time.GetUtcNow());
                record.Parameters.AddWithValue("by", Environment.MachineName.Length <= 200 ? Environment.MachineName : Environment.MachineName[..200]);
                record.Parameters.AddWithValue("ms", stopwatch.ElapsedMilliseconds);
                await record.ExecuteNonQueryAsync(cancellationToken);
                applied.Add(version);
            }

            var after = await ReadStatusAsync(connection, cancellationToken);
            JobsLog.JobStoreMigrated(logger, schema, after.InstalledVersion, applied.Count == 0 ? "nothing to apply" : $"recorded {string.Join(", ", applied)}");
            return after;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>Throws <see cref="SchemaNotReadyException"/> unless the job schema is exactly this build's.</summary>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(cancellationToken);
        EnsureNotDiverged(status);
        if (!status.IsCurrent)
        {
            const string Fix = "Run `compliance migrate --store jobs`, or set Storage:MigrateOnStart=true.";
            throw new SchemaNotReadyException(status.InstalledVersion switch
            {
                0 => $"The job store schema '{schema}' is not installed. {Fix}",
                var installed when installed < TargetVersion => $"The job store schema '{schema}' is at version {installed} but this build needs version {TargetVersion}. {Fix}",
                // Installed, but its history lacks this build's version: installed by other means, or a row was deleted.
                _ => $"The job store schema '{schema}' is at version {TargetVersion} but {schema}.compliance_schema_history does not record it. {Fix}",
            });
        }
    }

    private void EnsureNotDiverged(JobStoreStatus status)
    {
        if (status.InstalledVersion > TargetVersion)
        {
            throw new SchemaNotReadyException(
                $"The job store schema '{schema}' is at version {status.InstalledVersion}, newer than this build's {TargetVersion}. Deploy the newer build.");
        }

        var known = Scripts.Value.ToDictionary(s => s.Version, s => s.Checksum);
        var altered = status.Recorded.Where(r => !known.TryGetValue(r.Key, out var checksum) || checksum != r.Value).Select(r => r.Key).Order().ToList();
        if (altered.Count > 0)
        {
            throw new SchemaNotReadyException(
                $"The job store schema '{schema}' records version(s) {string.Join(", ", altered)} with other scripts than this build's Hangfire.PostgreSql. "
                + "Another build installed it, or its history was edited; deploy that build or restore the schema (`compliance migrate --store jobs --status` lists them).");
        }
    }

    private async Task<JobStoreStatus> ReadStatusAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            var installed = await ReadInstalledVersionAsync(connection, cancellationToken);
            var recorded = new Dictionary<int, string>();
            if (await TableExistsAsync(connection, "compliance_schema_history", cancellationToken))
            {
                await using var read = new NpgsqlCommand($"SELECT version, checksum FROM \"{schema}\".compliance_schema_history", connection);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    recorded[reader.GetInt32(0)] = reader.GetString(1);
                }
            }

            return new JobStoreStatus(installed, TargetVersion, recorded);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // A runtime role without the job schema's grants: say which, rather than end the start with a trace.
            throw new StoreUnavailableException(
                $"The job store's role may not read the schema '{schema}' ({e.MessageText}): grant it USAGE on the schema and SELECT, INSERT, UPDATE, DELETE "
                + "on its tables (README, \"Running against PostgreSQL\").", e);
        }
    }

    private async Task<int> ReadInstalledVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!await TableExistsAsync(connection, "schema", cancellationToken))
        {
            return 0;
        }

        await using var read = new NpgsqlCommand($"SELECT max(version) FROM \"{schema}\".\"schema\"", connection);
        return await read.ExecuteScalarAsync(cancellationToken) is int version ? version : 0;
    }

    private async Task<bool> TableExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        // pg_catalog, not information_schema: the latter hides tables this role has no rights on, and a runtime role
        // missing its grants would be told the schema is not installed.
        await using var exists = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE n.nspname = @schema AND c.relname = @table AND c.relkind IN ('r', 'p')", connection);
        exists.Parameters.AddWithValue("schema", schema);
        exists.Parameters.AddWithValue("table", table);
        return Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await connection.DisposeAsync();
            throw new StoreUnavailableException($"Cannot open the job store's database (Jobs:ConnectionString, else Storage:ComplianceConnectionString): {e.Message}", e);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static IReadOnlyList<(int Version, string Checksum)> LoadScripts()
    {
        const string Prefix = "Hangfire.PostgreSql.Scripts.Install.v";
        var assembly = typeof(PostgreSqlObjectsInstaller).Assembly;
        var scripts = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var version = int.Parse(name.AsSpan(Prefix.Length, name.Length - Prefix.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture);
            scripts.Add((version, Checksum(assembly, name)));
        }

        return scripts.Count == 0
            ? throw new InvalidOperationException("Hangfire.PostgreSql ships no install scripts: this build cannot install the job store.")
            : [.. scripts.OrderBy(s => s.Item1)];
    }

    private static string Checksum(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reader.ReadToEnd())));
    }
}

/// <summary>The job store's installed version, this build's, and the recorded checksums.</summary>
public sealed record JobStoreStatus(int InstalledVersion, int TargetVersion, IReadOnlyDictionary<int, string> Recorded)
{
    /// <summary>Exactly this build's schema: installed, recorded, and no recorded script unknown or altered (as the start-up gate requires).</summary>
    public bool IsCurrent => InstalledVersion == TargetVersion && Recorded.ContainsKey(TargetVersion) && Unknown.Count == 0 && Altered.Count == 0;

    /// <summary>This build's script versions that the history does not record yet: what a migration applies or records.</summary>
    public IReadOnlyList<int> Pending => [.. JobStoreMigrator.ShippedScripts.Keys.Where(v => !Recorded.ContainsKey(v)).Order()];

    /// <summary>Recorded versions that this build does not ship: a newer build installed them.</summary>
    public IReadOnlyList<int> Unknown => [.. Recorded.Keys.Where(v => !JobStoreMigrator.ShippedScripts.ContainsKey(v)).Order()];

    /// <summary>Recorded versions whose checksum is not this build's script's.</summary>
    public IReadOnlyList<int> Altered =>
        [.. Recorded.Where(r => JobStoreMigrator.ShippedScripts.TryGetValue(r.Key, out var checksum) && checksum != r.Value).Select(r => r.Key).Order()];
}
