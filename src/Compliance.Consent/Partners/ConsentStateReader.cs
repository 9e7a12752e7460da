using System.Threading.Channels;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Compliance.Consent.Partners;

/// <summary>A purpose's current state for one partner and subject, as <c>consent_states</c> holds it.</summary>
internal sealed record StateRow(ConsentState State, Guid EventId, string? NoticeVersion, DateTimeOffset? ExpiresAt);

/// <summary>
/// Reads the current state for consent checks, always from the shared store, so that an append that has returned on
/// any node is seen by the next check on every node: no node keeps a state that another node may have changed. On
/// PostgreSQL, the checks that arrive while a read is in flight go together in the next one (a group read), so that
/// one round trip answers many partners; on SQLite, the file is local and each check reads it directly.
/// </summary>
internal sealed class ConsentStateReader(IServiceScopeFactory scopes) : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private const int Readers = 2;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Lock _start = new();
    private Task[]? _readers;
    private bool? _postgres;

    public async Task<StateRow?> ReadAsync(Guid subjectId, string clientId, string purposeId, CancellationToken cancellationToken)
    {
        if (_postgres ??= await IsPostgresAsync())
        {
            var pending = new Pending(subjectId, clientId, purposeId, new TaskCompletionSource<StateRow?>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!_queue.Writer.TryWrite(pending))
            {
                throw new ObjectDisposedException(nameof(ConsentStateReader), "The server is stopping.");
            }

            lock (_start)
            {
                _readers ??= [.. Enumerable.Range(0, Readers).Select(_ => Task.Run(ReadLoopAsync, CancellationToken.None))];
            }

            return await pending.Done.Task.WaitAsync(cancellationToken);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        return await db.Set<ConsentStanding>().AsNoTracking()
            .Where(s => s.SubjectId == subjectId && s.ClientId == clientId && s.PurposeId == purposeId)
            .Select(s => new StateRow(s.State, s.EventId, s.NoticeVersion, s.ExpiresAt))
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        Task[]? readers;
        lock (_start)
        {
            readers = _readers;
        }

        if (readers is not null)
        {
            await Task.WhenAll(readers);
        }
    }

    private async Task<bool> IsPostgresAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        return scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Database.IsNpgsql();
    }

    private async Task ReadLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var rows = await ReadBatchAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(rows[i]);
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

    private async Task<StateRow?[]> ReadBatchAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT k.i, s.state, s.event_id, s.notice_version, s.expires_at
                FROM unnest(@subject, @client, @purpose) WITH ORDINALITY AS k(subject_id, client_id, purpose_id, i)
                JOIN consent_states s ON s.subject_id = k.subject_id AND s.client_id = k.client_id AND s.purpose_id = k.purpose_id
                """, (NpgsqlConnection)db.Database.GetDbConnection());
            command.Parameters.Add(new NpgsqlParameter("subject", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = batch.Select(p => p.SubjectId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("client", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = batch.Select(p => p.ClientId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("purpose", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = batch.Select(p => p.PurposeId).ToArray() });
            var rows = new StateRow?[batch.Count];
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetInt64(0) - 1] = new StateRow(
                    ConsentStates.Parse(reader.GetString(1)),
                    reader.GetGuid(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
            }

            return rows;
        }
        finally
        {
            // The context goes back to EF's pool: the connection opened here goes back to Npgsql's now.
            await db.Database.CloseConnectionAsync();
        }
    }

    private sealed record Pending(Guid SubjectId, string ClientId, string PurposeId, TaskCompletionSource<StateRow?> Done);
}
