using System.Diagnostics;
using Compliance.Consent.Merkle;

namespace Compliance.Consent.Verification;

/// <summary>
/// Recomputes a ledger from its rows, streamed in leaf-index order, and names the exact event of each change:
/// <list type="bullet">
/// <item><b>Changed</b>: a payload that does not open its commitment, half a redaction, a deleted payload row, or a
/// header that no longer gives its leaf hash or whose leaf hash is not sealed;</item>
/// <item><b>Reordered</b>: an authentic (sealed) row at a position its header was not made for;</item>
/// <item><b>Inserted</b>: a forged row (consistent header, no valid seal) at the end, or followed by authentic rows
/// shifted up by one;</item>
/// <item><b>Deleted</b>: a gap in the indexes, authentic rows shifted down by one, a payload without its leaf, or a
/// checkpoint larger than the log;</item>
/// <item><b>CheckpointMismatch</b> / <b>CheckpointSignature</b>: a signed root the stored leaves no longer give, or a
/// checkpoint whose signature does not verify.</item>
/// </list>
/// Per-row hashes of a batch are checked on every core, then the batch feeds the tree in order.
/// </summary>
public static class LedgerVerifier
{
    private const int BatchSize = 4096;

    public static async Task<LedgerVerification> VerifyAsync(
        IAsyncEnumerable<LedgerRow> rowsInIndexOrder,
        IReadOnlyList<CheckpointToCheck> checkpoints,
        IReadOnlyCollection<Guid> payloadsWithoutLeaf,
        ILeafSeal seal,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rowsInIndexOrder);
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(payloadsWithoutLeaf);
        ArgumentNullException.ThrowIfNull(seal);
        var clock = Stopwatch.StartNew();
        var state = new State(checkpoints.OrderBy(c => c.TreeSize).ToList());
        foreach (var checkpoint in state.Checkpoints.Where(c => !c.SignatureValid))
        {
            state.Findings.Add(new LedgerFinding(TamperKind.CheckpointSignature, checkpoint.TreeSize - 1, null,
                $"the checkpoint of {checkpoint.TreeSize} events (key {checkpoint.KeyId}) is not validly signed"));
        }

        var batch = new List<LedgerRow>(BatchSize);
        await foreach (var row in rowsInIndexOrder.WithCancellation(cancellationToken))
        {
            batch.Add(row);
            if (batch.Count == BatchSize)
            {
                await ProcessAsync(batch, state, seal, cancellationToken);
                batch.Clear();
            }
        }

        await ProcessAsync(batch, state, seal, cancellationToken);
        state.FlushForged(atEnd: true);

        var largest = state.Checkpoints.Count == 0 ? 0 : state.Checkpoints[^1].TreeSize;
        for (var missing = state.Expected; missing < largest; missing++)
        {
            state.Findings.Add(new LedgerFinding(TamperKind.Deleted, missing, null,
                $"leaf {missing} is missing: a checkpoint of {largest} events covered it (deleted rows, or a restored older backup)"));
        }

        foreach (var orphan in payloadsWithoutLeaf)
        {
            state.Findings.Add(new LedgerFinding(TamperKind.Deleted, null, orphan, "the event's payload is there but its leaf was deleted"));
        }

        return new LedgerVerification(state.Leaves, state.Redacted, state.Tree.Root(), state.Findings, state.CheckpointsChecked, clock.Elapsed);
    }

    private static async Task ProcessAsync(List<LedgerRow> batch, State state, ILeafSeal seal, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var checks = new RowCheck[batch.Count];
        var seals = new byte[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            var pending = seal.SealAsync(batch[i].LeafHash, cancellationToken);
            seals[i] = pending.IsCompletedSuccessfully ? pending.Result : await pending;
        }

        Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => checks[i] = Check(batch[i], seals[i]));
        for (var i = 0; i < batch.Count; i++)
        {
            state.Accept(batch[i], checks[i]);
        }
    }

    private static RowCheck Check(LedgerRow row, byte[] expectedSeal)
    {
        var authentic = row.Seal is { Length: MerkleHash.Size } && expectedSeal.AsSpan().SequenceEqual(row.Seal);
        var consistent = HeaderGives(row, row.Index);
        var shift = 0;
        if (authentic && !consistent)
        {
            shift = HeaderGives(row, row.Index - 1) ? +1 : HeaderGives(row, row.Index + 1) ? -1 : 0;
        }

        string? payloadProblem = null;
        var redacted = false;
        if (!row.HasPayloadRow)
        {
            payloadProblem = "the payload row was deleted";
        }
        else if (row.Payload is null && row.Salt is null)
        {
            redacted = true;
        }
        else if (row.Payload is null || row.Salt is null)
        {
            payloadProblem = "half a redaction: only one of the payload and its salt is gone";
        }
        else if (!LeafHeader.Commit(row.Salt, row.Payload).AsSpan().SequenceEqual(row.PayloadCommitment))
        {
            payloadProblem = "the payload does not match its leaf's commitment: it was changed";
        }

        return new RowCheck(authentic, consistent, shift, payloadProblem, redacted);
    }

    private static bool HeaderGives(LedgerRow row, long index)
    {
        if (index < 0 || row.PayloadCommitment is not { Length: MerkleHash.Size } || row.LeafHash is not { Length: MerkleHash.Size })
        {
            return false;
        }

        return new LeafHeader(index, row.EventId, row.AppendedAt, row.PayloadCommitment).LeafHash().AsSpan().SequenceEqual(row.LeafHash);
    }

    private readonly record struct RowCheck(bool Authentic, bool Consistent, int Shift, string? PayloadProblem, bool Redacted);

    private sealed class State(List<CheckpointToCheck> checkpoints)
    {
        private readonly List<LedgerRow> _forged = [];
        private int _nextCheckpoint;
        private int _shift;

        public List<CheckpointToCheck> Checkpoints { get; } = checkpoints;

        public List<LedgerFinding> Findings { get; } = [];

        public MerkleAccumulator Tree { get; } = new();

        public long Expected { get; private set; }

        public long Leaves { get; private set; }

        public long Redacted { get; private set; }

        public long CheckpointsChecked { get; private set; }

        public void Accept(LedgerRow row, RowCheck check)
        {
            for (var missing = Expected; missing < row.Index; missing++)
            {
                Findings.Add(new LedgerFinding(TamperKind.Deleted, missing, null, $"leaf {missing} is missing: its row was deleted"));
            }

            Expected = row.Index + 1;
            Leaves++;
            if (check.Redacted)
            {
                Redacted++;
            }

            if (check.Authentic && check.Consistent)
            {
                FlushForged(atEnd: false);
                _shift = 0;
            }
            else if (check.Authentic && check.Shift != 0)
            {
                if (check.Shift != _shift)
                {
                    // A run of authentic rows moved by one: reported once, where it starts.
                    Findings.Add(check.Shift > 0
                        ? _forged.Count > 0
                            ? new LedgerFinding(TamperKind.Inserted, _forged[0].Index, _forged[0].EventId, "a row with no valid seal was inserted; the rows after it were renumbered")
                            : new LedgerFinding(TamperKind.Inserted, row.Index - 1, null, $"a row was inserted before leaf {row.Index}; the rows after it were renumbered")
                        : new LedgerFinding(TamperKind.Deleted, row.Index, null, $"a leaf was deleted at {row.Index}; the rows after it were renumbered"));
                    _forged.Clear();
                }

                _shift = check.Shift;
            }
            else if (check.Authentic)
            {
                FlushForged(atEnd: false);
                _shift = 0;
                Findings.Add(new LedgerFinding(TamperKind.Reordered, row.Index, row.EventId, "a sealed row sits at a position its header was not made for: rows were reordered"));
            }
            else if (check.Consistent)
            {
                // A header that gives its leaf hash but carries no valid seal: edited with the hash recomputed, or
                // forged. Which, the rows after it tell.
                _forged.Add(row);
            }
            else
            {
                FlushForged(atEnd: false);
                Findings.Add(new LedgerFinding(TamperKind.Changed, row.Index, row.EventId, "the leaf's header no longer gives its leaf hash, and the hash is not sealed: the row was changed"));
            }

            if (check.PayloadProblem is { } problem)
            {
                Findings.Add(new LedgerFinding(TamperKind.Changed, row.Index, row.EventId, problem));
            }

            Tree.Append(row.LeafHash is { Length: MerkleHash.Size } ? row.LeafHash : new byte[MerkleHash.Size]);
            CheckCheckpoints();
        }

        /// <summary>Forged rows followed by ordinary ones were edited in place; at the end of the log they were added.</summary>
        public void FlushForged(bool atEnd)
        {
            foreach (var forged in _forged)
            {
                Findings.Add(atEnd
                    ? new LedgerFinding(TamperKind.Inserted, forged.Index, forged.EventId, "a row with no valid seal was added at the end of the log")
                    : new LedgerFinding(TamperKind.Changed, forged.Index, forged.EventId, "the leaf's header was changed and its hash recomputed, but it carries no valid seal"));
            }

            _forged.Clear();
        }

        private void CheckCheckpoints()
        {
            while (_nextCheckpoint < Checkpoints.Count && Checkpoints[_nextCheckpoint].TreeSize <= Tree.Size)
            {
                var checkpoint = Checkpoints[_nextCheckpoint];
                var from = _nextCheckpoint == 0 ? 0 : Checkpoints[_nextCheckpoint - 1].TreeSize;
                if (checkpoint.TreeSize == Tree.Size)
                {
                    CheckpointsChecked++;
                    if (!Tree.Root().AsSpan().SequenceEqual(checkpoint.RootHash))
                    {
                        Findings.Add(new LedgerFinding(TamperKind.CheckpointMismatch, from, null,
                            $"the leaves no longer give the root signed for {checkpoint.TreeSize} events: something in leaves {from} to {checkpoint.TreeSize - 1} changed"));
                    }
                }

                _nextCheckpoint++;
            }
        }
    }
}
