using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Consent.Verification;
using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;

namespace Compliance.Consent.Integrity;

/// <summary>
/// Recomputes the whole ledger from the tables: every payload's commitment, every leaf hash and seal, the order, and
/// the root at every signed checkpoint, whose signatures are checked against the attestation keys. Each finding names
/// the event. Used by <c>compliance ledger verify</c> and the auditors' API.
/// </summary>
public interface ILedgerIntegrity
{
    Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken);
}

internal sealed class LedgerIntegrity(ComplianceDbContext db, LedgerSeal seal, IAttestationKeys attestation) : ILedgerIntegrity
{
    private static readonly DateTimeOffsetToBinaryConverter SqliteTime = new();

    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var keys = await attestation.AllAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var snapshot = db.Database.GetDbConnection() is NpgsqlConnection && db.Database.CurrentTransaction is null
                ? await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken)
                : null;
            if (snapshot is not null)
            {
                // One snapshot for the checkpoints, the orphans and the rows: an append committed between two reads
                // cannot look like tampering. No JIT and no parallel workers: on a few cores both cost more than they give.
                await db.Database.ExecuteSqlRawAsync(
                    "SET TRANSACTION READ ONLY; SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0", cancellationToken);
            }

            var checkpoints = await CheckpointsAsync(keys, cancellationToken);
            var orphans = await db.Set<ConsentPayload>().AsNoTracking()
                .Where(p => !db.Set<ConsentLeaf>().Any(l => l.EventId == p.EventId))
                .Select(p => p.EventId)
                .ToListAsync(cancellationToken);
            using var seals = await seal.ForManyAsync(cancellationToken);
            return await LedgerVerifier.VerifyAsync(RowsAsync(db.Database.GetDbConnection(), cancellationToken), checkpoints, orphans, seals, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<List<CheckpointToCheck>> CheckpointsAsync(IReadOnlyList<AttestationKey> keys, CancellationToken cancellationToken)
    {
        var checkpoints = new List<CheckpointToCheck>();
        foreach (var row in await db.Set<ConsentCheckpoint>().AsNoTracking().OrderBy(c => c.TreeSize).ToListAsync(cancellationToken))
        {
            // The signed statement is the truth; the columns beside it must say the same.
            var check = AttestationVerifier.Verify(row.Jws, keys, CheckpointStatement.Type, CheckpointStatement.SignedAtOf);
            var statement = check.Valid && check.Payload is not null ? CheckpointStatement.Parse(check.Payload) : null;
            var consistent = statement is not null && statement.TreeSize == row.TreeSize && statement.Root.AsSpan().SequenceEqual(row.RootHash);
            checkpoints.Add(new CheckpointToCheck(row.TreeSize, statement?.Root ?? row.RootHash, row.SignedAt, row.KeyId, consistent));
        }

        return checkpoints;
    }

    /// <summary>
    /// Leaves joined with their payloads in index order, read with plain ADO.NET. A binary <c>COPY</c> parsed by hand
    /// measured the same on PostgreSQL (benchmarks/README.md, "Consent ledger"), so the reader stays: less code to audit.
    /// </summary>
    private async IAsyncEnumerable<LedgerRow> RowsAsync(DbConnection connection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sqlite = db.Database.IsSqlite();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT l.leaf_index, l.event_id, l.appended_at, l.payload_commitment, l.leaf_hash, l.seal,
                   p.event_id IS NOT NULL, p.salt, p.payload
            FROM consent_leaves l LEFT JOIN consent_payloads p ON p.event_id = l.event_id
            ORDER BY l.leaf_index
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LedgerRow(
                reader.GetInt64(0),
                sqlite ? Guid.Parse(reader.GetString(1)) : reader.GetGuid(1),
                sqlite ? (DateTimeOffset)SqliteTime.ConvertFromProvider(reader.GetInt64(2))! : reader.GetFieldValue<DateTimeOffset>(2),
                (byte[])reader[3],
                (byte[])reader[4],
                (byte[])reader[5],
                sqlite ? reader.GetInt64(6) != 0 : reader.GetBoolean(6),
                reader.IsDBNull(7) ? null : (byte[])reader[7],
                reader.IsDBNull(8) ? null : (byte[])reader[8]);
        }
    }
}
