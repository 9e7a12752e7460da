using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
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
/// one round trip answers many partners; on SQLite, one statement answers them (opening a connection costs more there
/// than the read).
/// </summary>
internal sealed class ConsentStateReader(IServiceScopeFactory scopes) : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private const int Readers = 2;
    private static readonly DateTimeOffsetToBinaryConverter SqliteTime = new();

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Lock _start = new();
    private Task[]? _readers;

    public async Task<StateRow?> ReadAsync(Guid subjectId, string clientId, string purposeId, CancellationToken cancellationToken)
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
            var postgres = db.Database.IsNpgsql();
            await using var command = postgres ? PostgresCommand(db, batch) : SqliteCommand(db, batch);
            var rows = new StateRow?[batch.Count];
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetInt64(0) - 1] = new StateRow(
                    ConsentStates.Parse(reader.GetString(1)),
                    postgres ? reader.GetGuid(2) : Guid.Parse(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : postgres ? reader.GetFieldValue<DateTimeOffset>(4) : (DateTimeOffset)SqliteTime.ConvertFromProvider(reader.GetInt64(4))!);
            }

            return rows;
        }
        finally
        {
            // The context goes back to EF's pool: the connection opened here goes back to the provider's pool now.
            await db.Database.CloseConnectionAsync();
        }
    }

    private static NpgsqlCommand PostgresCommand(ComplianceDbContext db, List<Pending> batch)
    {
        var command = new NpgsqlCommand("""
            SELECT k.i, s.state, s.event_id, s.notice_version, s.expires_at
            FROM unnest(@subject, @client, @purpose) WITH ORDINALITY AS k(subject_id, client_id, purpose_id, i)
            JOIN consent_states s ON s.subject_id = k.subject_id AND s.client_id = k.client_id AND s.purpose_id = k.purpose_id
            """, (NpgsqlConnection)db.Database.GetDbConnection());
        command.Parameters.Add(new NpgsqlParameter("subject", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = batch.Select(p => p.SubjectId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("client", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = batch.Select(p => p.ClientId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("purpose", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = batch.Select(p => p.PurposeId).ToArray() });
        return command;
    }

    // SQLite keeps Guids as upper-case text and times in EF's binary form; the keys go in as one VALUES list.
    private static DbCommand SqliteCommand(ComplianceDbContext db, List<Pending> batch)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        var values = new StringBuilder();
        for (var i = 0; i < batch.Count; i++)
        {
            values.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"({i + 1}, $s{i}, $c{i}, $p{i})");
            Add(command, $"$s{i}", batch[i].SubjectId.ToString("D").ToUpperInvariant());
            Add(command, $"$c{i}", batch[i].ClientId);
            Add(command, $"$p{i}", batch[i].PurposeId);
        }

        command.CommandText = $"""
            WITH k(i, subject_id, client_id, purpose_id) AS (VALUES {values})
            SELECT k.i, s.state, s.event_id, s.notice_version, s.expires_at
            FROM k JOIN consent_states s ON s.subject_id = k.subject_id AND s.client_id = k.client_id AND s.purpose_id = k.purpose_id
            """;
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private sealed record Pending(Guid SubjectId, string ClientId, string PurposeId, TaskCompletionSource<StateRow?> Done);
}
