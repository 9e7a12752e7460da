using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Consent.Ledger;
using Compliance.Consent.Merkle;
using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Oidc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Checkpoints;

/// <summary>
/// Signed checkpoints of the log and the proofs against them. A checkpoint is signed by the recurring job when the log
/// grew, and on demand (a receipt for an event no checkpoint covers yet). Two nodes signing the same size at once
/// store one (the size is the key); the other reads it.
/// </summary>
public interface ILedgerCheckpoints
{
    /// <summary>Signs a checkpoint of the whole log now, unless the latest one already covers it; null for an empty log.</summary>
    Task<SignedCheckpoint?> SignAsync(CancellationToken cancellationToken);

    /// <summary>The checkpoints, oldest first, from <paramref name="afterSize"/> on (exclusive), at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SignedCheckpoint>> ListAsync(long afterSize, int limit, CancellationToken cancellationToken);

    /// <summary>The first checkpoint that covers the leaf (its tree size is larger than the index), signing one if none does.</summary>
    Task<SignedCheckpoint?> CoveringAsync(long leafIndex, CancellationToken cancellationToken);

    /// <summary>RFC 9162 inclusion proof of a leaf in the tree of a size; null when the sizes are out of range.</summary>
    Task<IReadOnlyList<byte[]>?> InclusionProofAsync(long leafIndex, long treeSize, CancellationToken cancellationToken);

    /// <summary>RFC 9162 consistency proof between two tree sizes; null when they are out of range.</summary>
    Task<IReadOnlyList<byte[]>?> ConsistencyProofAsync(long firstSize, long secondSize, CancellationToken cancellationToken);

    /// <summary>
    /// An operator's decision, after a restore: the ledger is what the store holds. This node's witness is set to the
    /// store's latest checkpoint (audited, with both sizes), and appends resume. Returns (the store's checkpointed
    /// size, the size the witness had recorded).
    /// </summary>
    Task<(long StoreSize, long? RecordedSize)> AcceptStoreAsync(CancellationToken cancellationToken);
}

internal sealed class LedgerCheckpoints(
    ComplianceDbContext db,
    LeafHashes leaves,
    LedgerWitness witness,
    IAttestationKeys attestation,
    IOptions<OidcOptions> oidc,
    IAuditTrail trail,
    IAuditActor actor,
    TimeProvider time) : ILedgerCheckpoints
{
    /// <summary>The log's name in every checkpoint: this issuer's ledger.</summary>
    public string LogName => oidc.Value.IssuerUri + "/ledger";

    public async Task<SignedCheckpoint?> SignAsync(CancellationToken cancellationToken)
    {
        var size = await SizeAsync(cancellationToken);
        var latest = await db.Set<ConsentCheckpoint>().AsNoTracking().OrderByDescending(c => c.TreeSize).FirstOrDefaultAsync(cancellationToken);
        if (size == 0 || latest?.TreeSize >= size)
        {
            return latest is null ? null : View(latest);
        }

        var hashes = await leaves.UpToAsync(size, cancellationToken);
        if (hashes.Count != size)
        {
            throw new ConsentLedgerException("ledger_gap", $"The ledger's leaves are not a gapless sequence of {size}: run compliance ledger verify.");
        }

        var root = MerkleTree.Root(hashes);

        // The key is made (or rotated) before the time is read: a key is valid from the second it was made, and a
        // checkpoint dated a moment before its key would never verify. The signature of this first call is discarded.
        await attestation.SignAsync(CheckpointStatement.Type, ReadOnlyMemory<byte>.Empty, cancellationToken);
        var signedAt = LedgerAppender.Stored(time.GetUtcNow());
        var statement = CheckpointStatement.For(LogName, size, root, signedAt);
        var signature = await attestation.SignAsync(CheckpointStatement.Type, statement.ToBytes(), cancellationToken);
        var row = new ConsentCheckpoint { TreeSize = size, RootHash = root, SignedAt = signedAt, KeyId = signature.KeyId, Jws = signature.Jws };
        db.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another node signed this size at the same moment: its checkpoint is the one.
            db.ChangeTracker.Clear();
            row = await db.Set<ConsentCheckpoint>().AsNoTracking().FirstOrDefaultAsync(c => c.TreeSize == size, cancellationToken) ?? throw new ConsentLedgerException(
                "checkpoint_failed", "The checkpoint could not be stored.");
        }

        var signed = View(row);
        witness.Record(signed);
        return signed;
    }

    public async Task<IReadOnlyList<SignedCheckpoint>> ListAsync(long afterSize, int limit, CancellationToken cancellationToken) =>
        (await db.Set<ConsentCheckpoint>().AsNoTracking().Where(c => c.TreeSize > afterSize).OrderBy(c => c.TreeSize).Take(limit).ToListAsync(cancellationToken))
            .ConvertAll(View);

    public async Task<SignedCheckpoint?> CoveringAsync(long leafIndex, CancellationToken cancellationToken)
    {
        var covering = await db.Set<ConsentCheckpoint>().AsNoTracking().Where(c => c.TreeSize > leafIndex).OrderBy(c => c.TreeSize).FirstOrDefaultAsync(cancellationToken);
        if (covering is not null)
        {
            return View(covering);
        }

        var signed = await SignAsync(cancellationToken);
        return signed is not null && signed.TreeSize > leafIndex ? signed : null;
    }

    public async Task<IReadOnlyList<byte[]>?> InclusionProofAsync(long leafIndex, long treeSize, CancellationToken cancellationToken)
    {
        if (leafIndex < 0 || treeSize <= leafIndex || treeSize > await SizeAsync(cancellationToken))
        {
            return null;
        }

        return MerkleTree.InclusionProof(await leaves.UpToAsync(treeSize, cancellationToken), leafIndex, treeSize);
    }

    public async Task<IReadOnlyList<byte[]>?> ConsistencyProofAsync(long firstSize, long secondSize, CancellationToken cancellationToken)
    {
        if (firstSize <= 0 || secondSize < firstSize || secondSize > await SizeAsync(cancellationToken))
        {
            return null;
        }

        return MerkleTree.ConsistencyProof(await leaves.UpToAsync(secondSize, cancellationToken), firstSize, secondSize);
    }

    public async Task<(long StoreSize, long? RecordedSize)> AcceptStoreAsync(CancellationToken cancellationToken)
    {
        var recorded = witness.Latest()?.TreeSize;
        var latest = await db.Set<ConsentCheckpoint>().AsNoTracking().OrderByDescending(c => c.TreeSize).FirstOrDefaultAsync(cancellationToken);
        if (latest is null)
        {
            witness.Clear();
        }
        else
        {
            witness.Record(View(latest), force: true);
        }

        await trail.RecordAsync(AuditEventTypes.LedgerReconciled, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, long?>
        {
            ["store_tree_size"] = latest?.TreeSize ?? 0,
            ["recorded_tree_size"] = recorded,
        }), cancellationToken);
        return (latest?.TreeSize ?? 0, recorded);
    }

    private async Task<long> SizeAsync(CancellationToken cancellationToken) =>
        (await db.Set<ConsentLeaf>().MaxAsync(l => (long?)l.LeafIndex, cancellationToken) ?? -1) + 1;

    private static SignedCheckpoint View(ConsentCheckpoint row) => new(row.TreeSize, row.RootHash, row.SignedAt, row.KeyId, row.Jws);
}

/// <summary>The recurring job that signs a checkpoint when the log grew.</summary>
internal sealed class CheckpointWork(ILedgerCheckpoints checkpoints, IOptions<ConsentOptions> options) : Jobs.Work.IRecurringWork
{
    public string Id => "ledger.checkpoint";

    public string Cron => options.Value.CheckpointCron;

    public Task RunAsync(CancellationToken cancellationToken) => checkpoints.SignAsync(cancellationToken);
}
