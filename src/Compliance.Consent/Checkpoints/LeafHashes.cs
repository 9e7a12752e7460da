using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Consent.Checkpoints;

/// <summary>
/// This node's copy of the leaf hashes, in order, for checkpoints and proofs: leaves never change, so the copy only
/// grows, by reading the leaves appended since. 32 bytes a leaf (32 MB for a million events). Verification never uses
/// it: it reads the tables.
/// </summary>
internal sealed class LeafHashes(IServiceScopeFactory scopes) : IDisposable
{
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly List<byte[]> _hashes = [];

    /// <summary>The first <paramref name="size"/> leaf hashes; fewer when the store holds fewer.</summary>
    public async Task<IReadOnlyList<byte[]>> UpToAsync(long size, CancellationToken cancellationToken)
    {
        await _load.WaitAsync(cancellationToken);
        try
        {
            while (_hashes.Count < size)
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
                long from = _hashes.Count;
                var next = await db.Set<ConsentLeaf>().AsNoTracking()
                    .Where(l => l.LeafIndex >= from && l.LeafIndex < size)
                    .OrderBy(l => l.LeafIndex)
                    .Select(l => new { l.LeafIndex, l.LeafHash })
                    .Take(50_000)
                    .ToListAsync(cancellationToken);
                if (next.Count == 0 || next[0].LeafIndex != from)
                {
                    break;
                }

                foreach (var leaf in next)
                {
                    if (leaf.LeafIndex != _hashes.Count)
                    {
                        break;
                    }

                    _hashes.Add(leaf.LeafHash);
                }
            }

            return _hashes.Count <= size ? [.. _hashes] : _hashes.GetRange(0, (int)size);
        }
        finally
        {
            _load.Release();
        }
    }

    public void Dispose() => _load.Dispose();
}
