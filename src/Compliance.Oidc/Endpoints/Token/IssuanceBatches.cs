using System.Threading.Channels;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// Group commit for SQLite: the issuances that arrive while a batch is being written wait, then go together in the
/// next transaction, so that one <c>synchronous=FULL</c> fsync serves many requests instead of one each. The file
/// has one writer anyway; what a request waited for before was mostly the other requests' fsyncs. Nothing is weaker:
/// a request is answered only after the commit that holds its rows has returned, and each issuance is still all or
/// nothing (a savepoint each, so that one failure fails only its own request). Batches are taken as they come: a
/// request that finds the writer idle is written at once, alone.
/// </summary>
internal sealed class IssuanceBatches(IServiceScopeFactory scopes) : IAsyncDisposable
{
    private const int MaxBatch = 64;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _start = new();
    private Task? _writer;

    public Task<IssueOutcome> CommitAsync(SqliteIssuance work)
    {
        var pending = new Pending(work, new TaskCompletionSource<IssueOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(IssuanceBatches), "The server is stopping.");
        }

        lock (_start)
        {
            _writer ??= Task.Run(WriteAsync);
        }

        return pending.Done.Task;
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
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            await WriteBatchAsync(batch);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        var outcomes = new (IssueOutcome Outcome, Exception? Error)[batch.Count];
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            await OneConnection.RunAsync(db.Database, async () =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                for (var i = 0; i < batch.Count; i++)
                {
                    await transaction.CreateSavepointAsync("issuance");
                    try
                    {
                        outcomes[i] = (await IssuanceCommit.ApplyAsync(db, batch[i].Work, CancellationToken.None), null);
                        await transaction.ReleaseSavepointAsync("issuance");
                    }
                    catch (Exception e) when (e is DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
                    {
                        await transaction.RollbackToSavepointAsync("issuance");
                        outcomes[i] = (default, e);
                    }
                }

                await transaction.CommitAsync();
            }, CancellationToken.None);
        }
#pragma warning disable CA1031 // Whatever failed the batch fails each of its requests, which then answer with an error.
        catch (Exception e)
#pragma warning restore CA1031
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(e);
            }

            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Error is { } error)
            {
                batch[i].Done.TrySetException(error);
            }
            else
            {
                batch[i].Done.TrySetResult(outcomes[i].Outcome);
            }
        }
    }

    private sealed record Pending(SqliteIssuance Work, TaskCompletionSource<IssueOutcome> Done);
}
