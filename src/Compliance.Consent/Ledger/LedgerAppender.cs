using System.Security.Cryptography;
using System.Threading.Channels;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Merkle;
using Compliance.Consent.Outbox;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Consent.Ledger;

/// <summary>
/// Appends events to the Merkle log in one order across nodes. On PostgreSQL every append transaction takes one
/// advisory lock, so the leaf indexes of all nodes form one gapless sequence in commit order; on SQLite the write
/// transaction (<c>BEGIN IMMEDIATE</c>) already is that lock. The appends that arrive while a transaction is being
/// written wait and go together in the next one (group commit), so that one fsync and one lock serve many patients.
/// An append returns only after the commit that holds it; the events of one call are appended together or not at all.
/// </summary>
internal sealed class LedgerAppender(IServiceScopeFactory scopes, LedgerWitness witness, TimeProvider time, ILogger<LedgerAppender> logger) : IAsyncDisposable
{
    /// <summary>The advisory lock of the ledger's appends ("Consent" in ASCII, then 1).</summary>
    public const long AdvisoryLockKey = 0x436F_6E73_656E_7401;

    private const int MaxBatchEvents = 256;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _start = new();
    private Task? _writer;

    public Task<IReadOnlyList<AppendedConsentEvent>> AppendAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        var pending = new Pending(events, new TaskCompletionSource<IReadOnlyList<AppendedConsentEvent>>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(LedgerAppender), "The server is stopping.");
        }

        lock (_start)
        {
            _writer ??= Task.Run(WriteAsync, CancellationToken.None);
        }

        // The caller may stop waiting; the append itself is not cancelled halfway.
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        Task? writer;
        lock (_start)
        {
            writer = _writer;
        }

        if (writer is not null)
        {
            await writer;
        }
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            var events = 0;
            while (events < MaxBatchEvents && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                events += next.Events.Count;
            }

            try
            {
                Complete(batch, await WriteBatchAsync(batch));
            }
            catch (Exception batchError) when (batch.Count > 1 && batchError is not ConsentLedgerException)
            {
                // One bad append must not fail the others: each is tried again alone.
                LedgerLog.BatchRetriedAlone(logger, batch.Count, batchError);
                foreach (var pending in batch)
                {
                    await WriteAloneAsync(pending);
                }
            }
            catch (Exception error)
            {
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(error);
                }
            }
        }
    }

    private async Task WriteAloneAsync(Pending pending)
    {
        try
        {
            Complete([pending], await WriteBatchAsync([pending]));
        }
        catch (Exception error)
        {
            pending.Done.TrySetException(error);
        }
    }

    /// <summary>Each caller gets its events as appended, in its order; a dropped draft (null) is left out.</summary>
    private static void Complete(List<Pending> batch, List<AppendedConsentEvent?> appended)
    {
        var offset = 0;
        foreach (var pending in batch)
        {
            pending.Done.TrySetResult([.. appended.GetRange(offset, pending.Events.Count).OfType<AppendedConsentEvent>()]);
            offset += pending.Events.Count;
        }
    }

    private async Task<List<AppendedConsentEvent?>> WriteBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var seal = scope.ServiceProvider.GetRequiredService<LedgerSeal>();
        var drafts = batch.SelectMany(p => p.Events).ToList();

        // Sealing needs the custody secret, which may need the store: fetch it before the lock is taken.
        await seal.SealAsync(new byte[MerkleHash.Size], CancellationToken.None);

        await db.Database.OpenConnectionAsync();
        try
        {
            return await WriteInTransactionAsync(db, seal, drafts);
        }
        finally
        {
            // The context goes back to EF's pool: the connection opened here goes back to Npgsql's now.
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<List<AppendedConsentEvent?>> WriteInTransactionAsync(ComplianceDbContext db, LedgerSeal seal, List<PreparedEvent> drafts)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})");
        }

        try
        {
            var appended = await AppendInTransactionAsync(db, seal, drafts);
            await transaction.CommitAsync();
            var written = appended.OfType<AppendedConsentEvent>().ToList();
            if (written.Count > 0)
            {
                LedgerLog.Appended(logger, written.Count, written[^1].LeafIndex + 1);
            }

            return appended;
        }
        catch
        {
            // Explicitly, so that SQLite's write gate is released now rather than when the connection is disposed.
            await transaction.RollbackAsync();
            throw;
        }
    }

    private async Task<List<AppendedConsentEvent?>> AppendInTransactionAsync(ComplianceDbContext db, LedgerSeal seal, List<PreparedEvent> drafts)
    {
        var postgres = db.Database.IsNpgsql();
        var (size, published) = postgres ? await PostgresLedgerRows.LockAndReadHeadAsync(db) : await HeadAsync(db);
        if (published > size)
        {
            throw new ConsentLedgerException("ledger_behind_checkpoint",
                $"The ledger holds {size} events but a checkpoint of {published} was published: rows were deleted. Appends are refused until an operator reconciles it (compliance ledger verify).");
        }

        if (witness.Latest() is { } seen && (seen.TreeSize > size
            || await db.Set<ConsentCheckpoint>().Where(c => c.TreeSize == seen.TreeSize).Select(c => c.RootHash).FirstOrDefaultAsync() is not { } root
            || !root.AsSpan().SequenceEqual(seen.Root)))
        {
            throw new ConsentLedgerException("ledger_behind_checkpoint",
                $"This node published a checkpoint of {seen.TreeSize} events that the store no longer holds as signed (it holds {size}): the database was restored from an older backup. "
                + "Appends are refused until an operator reconciles it (compliance ledger verify, then compliance ledger reconcile --accept-store).");
        }

        var current = await StillCurrentAsync(db, drafts);
        var appendedAt = Stored(time.GetUtcNow());
        var rows = new List<LedgerRows>(drafts.Count);
        var appended = new List<AppendedConsentEvent?>(drafts.Count);
        for (var i = 0; i < drafts.Count; i++)
        {
            var prepared = drafts[i];
            if (!current[i])
            {
                appended.Add(null);
                continue;
            }

            var salt = RandomNumberGenerator.GetBytes(32);
            var header = new LeafHeader(size, prepared.EventId, appendedAt, LeafHeader.Commit(salt, prepared.Payload));
            var leafHash = header.LeafHash();
            rows.Add(new LedgerRows(prepared, size, appendedAt, header.PayloadCommitment, leafHash, await seal.SealAsync(leafHash, CancellationToken.None), salt));
            appended.Add(new AppendedConsentEvent(prepared.EventId, size, appendedAt, prepared.Draft, prepared.ExpiresAt));
            size++;
        }

        if (rows.Count == 0)
        {
            return appended;
        }

        if (postgres)
        {
            await PostgresLedgerRows.WriteAsync(db, rows);
        }
        else
        {
            await WriteWithEntitiesAsync(db, rows);
        }

        return appended;
    }

    /// <summary>
    /// Whether each draft still applies, read under the append lock: a draft that expects a current event is dropped
    /// when the state moved since it was decided, by a commit of any node or by an earlier draft of this batch.
    /// </summary>
    private static async Task<bool[]> StillCurrentAsync(ComplianceDbContext db, List<PreparedEvent> drafts)
    {
        var keep = new bool[drafts.Count];
        var guarded = drafts.Where(d => d.Draft.ExpectedCurrentEventId is not null).Select(d => d.Draft.SubjectId).Distinct().ToList();
        var current = new Dictionary<(Guid, string, string), Guid>();
        if (guarded.Count > 0)
        {
            foreach (var row in await db.Set<ConsentStanding>().AsNoTracking().Where(s => guarded.Contains(s.SubjectId))
                .Select(s => new { s.SubjectId, s.ClientId, s.PurposeId, s.EventId }).ToListAsync())
            {
                current[(row.SubjectId, row.ClientId, row.PurposeId)] = row.EventId;
            }
        }

        for (var i = 0; i < drafts.Count; i++)
        {
            var draft = drafts[i].Draft;
            var key = (draft.SubjectId, draft.ClientId, draft.PurposeId);
            keep[i] = draft.ExpectedCurrentEventId is not { } expected
                || (current.TryGetValue(key, out var now) ? now == expected : expected == ConsentEventDraft.NoCurrentEvent);
            if (keep[i])
            {
                current[key] = drafts[i].EventId;
            }
        }

        return keep;
    }

    private static async Task<(long Size, long Published)> HeadAsync(ComplianceDbContext db) =>
        ((await db.Set<ConsentLeaf>().MaxAsync(l => (long?)l.LeafIndex) ?? -1) + 1, await db.Set<ConsentCheckpoint>().MaxAsync(c => (long?)c.TreeSize) ?? 0);

    /// <summary>SQLite: the rows through EF; the file has one writer anyway.</summary>
    private static async Task WriteWithEntitiesAsync(ComplianceDbContext db, List<LedgerRows> rows)
    {
        var subjects = rows.Select(r => r.Event.Draft.SubjectId).Distinct().ToList();
        var standing = await db.Set<ConsentStanding>().Where(s => subjects.Contains(s.SubjectId)).ToListAsync();
        foreach (var row in rows)
        {
            var draft = row.Event.Draft;
            db.Add(new ConsentLeaf
            {
                LeafIndex = row.Index, EventId = row.Event.EventId, AppendedAt = row.AppendedAt,
                PayloadCommitment = row.Commitment, LeafHash = row.LeafHash, Seal = row.Seal,
            });
            db.Add(new ConsentPayload { EventId = row.Event.EventId, Payload = row.Event.Payload, Salt = row.Salt });
            if (row.Event.Claim is { } claim)
            {
                db.Add(new ConsentPartnerRequest
                {
                    ClientId = claim.ClientId, IdempotencyKey = claim.Key, RequestHash = claim.RequestHash, EventId = row.Event.EventId, CreatedAt = row.AppendedAt,
                });
            }

            db.Add(new ConsentSubjectEvent
            {
                EventId = row.Event.EventId, SubjectId = draft.SubjectId, ClientId = draft.ClientId, PurposeId = draft.PurposeId,
                State = draft.State, NoticeVersion = draft.NoticeVersion, OccurredAt = draft.OccurredAt, LeafIndex = row.Index,
            });
            Project(db, standing, row.Event);
        }

        db.AddRange(OutboxEntries.Rows(rows));
        await db.SaveChangesAsync();
    }

    /// <summary>The current state per subject, partner and purpose, moved by the event in the same transaction.</summary>
    private static void Project(ComplianceDbContext db, List<ConsentStanding> standing, PreparedEvent prepared)
    {
        var draft = prepared.Draft;
        var row = standing.FirstOrDefault(s => s.SubjectId == draft.SubjectId && s.ClientId == draft.ClientId && s.PurposeId == draft.PurposeId);
        if (row is null)
        {
            row = new ConsentStanding { SubjectId = draft.SubjectId, ClientId = draft.ClientId, PurposeId = draft.PurposeId };
            standing.Add(row);
            db.Add(row);
        }

        row.State = draft.State;
        row.EventId = prepared.EventId;
        row.NoticeVersion = draft.NoticeVersion ?? row.NoticeVersion;
        row.OccurredAt = draft.OccurredAt;
        row.ExpiresAt = prepared.ExpiresAt;
    }

    /// <summary>
    /// A time as both stores keep it, to the millisecond (SQLite's binary form keeps a tenth of one, PostgreSQL a
    /// microsecond): the time hashed into a leaf is exactly the time stored.
    /// </summary>
    public static DateTimeOffset Stored(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private sealed record Pending(IReadOnlyList<PreparedEvent> Events, TaskCompletionSource<IReadOnlyList<AppendedConsentEvent>> Done);
}

/// <summary>An event's rows, computed under the append lock.</summary>
internal sealed record LedgerRows(PreparedEvent Event, long Index, DateTimeOffset AppendedAt, byte[] Commitment, byte[] LeafHash, byte[] Seal, byte[] Salt);

/// <summary>
/// An event whose record is built, ready to append; <paramref name="Outbox"/> when a partner learns of it, and
/// <paramref name="Claim"/> (the first event of a partner request) written with it.
/// </summary>
internal sealed record PreparedEvent(Guid EventId, ConsentEventDraft Draft, byte[] Payload, DateTimeOffset? ExpiresAt, OutboxEntry? Outbox = null, PartnerRequestClaim? Claim = null);
