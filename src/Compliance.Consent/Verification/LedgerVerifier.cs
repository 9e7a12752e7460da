using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Compliance.Consent.Merkle;

namespace Compliance.Consent.Verification;

/// <summary>
/// Recomputes the whole ledger from rows streamed in leaf-index order: every payload commitment, leaf hash and seal,
/// the Merkle root at each checkpoint's size, and names the event behind each kind of tampering. Pure: the caller
/// reads the database and checks checkpoint signatures.
/// </summary>
public static class LedgerVerifier
{
    private const int BatchSize = 4096;

    // Batches in flight: one being read, one being checked, one being classified, and one spare so no stage waits.
    private const int Batches = 4;

    // How far from its own index a sealed row's header is searched for, and for how many rows, before it is called
    // changed: bounds the work an attacker can cause by scrambling every header.
    private const int SearchWindow = 256;
    private const int SearchBudget = 10_000;
    private const int GapFindingsPerGap = 100;

    /// <summary>Verifies the ledger; never stops at the first finding.</summary>
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
        var stopwatch = Stopwatch.StartNew();
        var run = new Run(checkpoints);

        // Three stages overlap: a reader fills batches from the source (a database cursor keeps producing meanwhile),
        // the per-row hashes of the next full batch are checked in parallel, and the batch before it is classified in
        // order (accumulator, checkpoints, findings). Batches go back to the reader once classified.
        var free = Channel.CreateBounded<Batch>(Batches);
        var full = Channel.CreateBounded<Batch>(Batches);
        for (var i = 0; i < Batches; i++)
        {
            free.Writer.TryWrite(new Batch());
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(() => ReadAsync(rowsInIndexOrder, full.Writer, free.Reader, stop.Token), CancellationToken.None);
        Task classifying = Task.CompletedTask;
        try
        {
            while (await full.Reader.WaitToReadAsync(cancellationToken))
            {
                while (full.Reader.TryRead(out var batch))
                {
                    await CheckBatchAsync(batch.Rows, batch.Facts, batch.Count, seal, cancellationToken);
                    await classifying;
                    classifying = Task.Run(
                        () =>
                        {
                            run.Classify(batch.Rows, batch.Facts, batch.Count);
                            free.Writer.TryWrite(batch);
                        },
                        cancellationToken);
                }
            }

            // The reader's own failure (a null row, the source's exception) comes out here, as it was thrown.
            await reading;
            await classifying;
        }
        finally
        {
            // Never leave the reader running on the caller's connection after returning.
            await stop.CancelAsync();
            await Task.WhenAll(reading, classifying).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        run.Finish();
        foreach (var eventId in payloadsWithoutLeaf)
        {
            run.Findings.Add(new(TamperKind.Deleted, null, eventId, "Leaf row deleted: a payload row remains whose event has no leaf."));
        }

        return new LedgerVerification(run.Leaves, run.Redacted, run.Accumulator.Root(), run.Findings, checkpoints.Count, stopwatch.Elapsed);
    }

    // Fills free batches from the source in order and hands each full one over; the last may be partial or empty.
    private static async Task ReadAsync(IAsyncEnumerable<LedgerRow> rowsInIndexOrder, ChannelWriter<Batch> full, ChannelReader<Batch> free, CancellationToken cancellationToken)
    {
        try
        {
            var batch = await free.ReadAsync(cancellationToken);
            batch.Count = 0;
            await foreach (var row in rowsInIndexOrder.WithCancellation(cancellationToken))
            {
                batch.Rows[batch.Count++] = row ?? throw new ArgumentException("A ledger row is null.", nameof(rowsInIndexOrder));
                if (batch.Count == BatchSize)
                {
                    await full.WriteAsync(batch, cancellationToken);
                    batch = await free.ReadAsync(cancellationToken);
                    batch.Count = 0;
                }
            }

            if (batch.Count > 0)
            {
                await full.WriteAsync(batch, cancellationToken);
            }
        }
        finally
        {
            full.TryComplete();
        }
    }

    private sealed class Batch
    {
        public LedgerRow[] Rows { get; } = new LedgerRow[BatchSize];

        public RowFacts[] Facts { get; } = new RowFacts[BatchSize];

        public int Count { get; set; }
    }

    // The per-row hashes, in parallel: payload commitment, header against the stored leaf hash, and the seal.
    private static async Task CheckBatchAsync(LedgerRow[] batch, RowFacts[] facts, int count, ILeafSeal seal, CancellationToken cancellationToken)
    {
        var slowSeals = new ConcurrentBag<(int Position, Task<byte[]> Seal)>();
        var chunk = Math.Max(256, count / (Environment.ProcessorCount * 2));
        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, count, chunk),
            new ParallelOptions { CancellationToken = cancellationToken },
            range =>
            {
                Span<byte> hash = stackalloc byte[MerkleHash.Size];
                for (var i = range.Item1; i < range.Item2; i++)
                {
                    var row = batch[i];
                    ref var f = ref facts[i];
                    f = default;
                    var leafHash = row.LeafHash ?? [];
                    var commitment = row.PayloadCommitment ?? [];
                    f.WellFormed = leafHash.Length == MerkleHash.Size && commitment.Length == MerkleHash.Size;
                    if (!f.WellFormed)
                    {
                        continue;
                    }

                    LeafHeader.LeafHash(row.Index, row.EventId, row.AppendedAt, commitment, hash);
                    f.ConsistentAtIndex = hash.SequenceEqual(leafHash);
                    f.Payload = CheckPayload(row, commitment, hash);
                    var sealing = seal.SealAsync(leafHash, cancellationToken);
                    if (sealing.IsCompletedSuccessfully)
                    {
                        f.Authentic = SealMatches(sealing.Result, row.Seal);
                    }
                    else
                    {
                        slowSeals.Add((i, sealing.AsTask()));
                    }
                }
            });

        foreach (var (position, sealing) in slowSeals)
        {
            facts[position].Authentic = SealMatches(await sealing.ConfigureAwait(false), batch[position].Seal);
        }
    }

    private static bool SealMatches(byte[] expected, byte[]? stored) =>
        stored is not null && CryptographicOperations.FixedTimeEquals(expected, stored);

    private static PayloadState CheckPayload(LedgerRow row, byte[] commitment, Span<byte> scratch)
    {
        if (!row.HasPayloadRow)
        {
            return PayloadState.RowMissing;
        }

        if (row.Salt is null && row.Payload is null)
        {
            return PayloadState.Redacted;
        }

        if (row.Salt is null || row.Payload is null)
        {
            return PayloadState.HalfRedacted;
        }

        LeafHeader.Commit(row.Salt, row.Payload, scratch);
        return scratch.SequenceEqual(commitment) ? PayloadState.Intact : PayloadState.Mismatch;
    }

    private enum PayloadState : byte
    {
        Intact,
        Redacted,
        HalfRedacted,
        Mismatch,
        RowMissing,
    }

    private struct RowFacts
    {
        public bool WellFormed;
        public bool ConsistentAtIndex;
        public bool Authentic;
        public PayloadState Payload;
        public bool OffsetResolved;
        public long? Offset; // where a sealed row's header matches, relative to its index; null when nowhere near
    }

    // The sequential part: the accumulator, checkpoints, and the classification, which looks one row ahead (a shift
    // is told from a swap by the next row) and keeps a forged row pending until the row after it says what it was.
    private sealed class Run
    {
        private readonly List<CheckpointToCheck> _checkpoints;
        private int _nextCheckpoint;
        private long _previousCheckpointSize;
        private long _expectedIndex;
        private long _shift;
        private int _searches;
        private LedgerRow? _previous;
        private RowFacts _previousFacts;
        private bool _previousInOrder = true;
        private LedgerRow? _pendingForged;

        public Run(IReadOnlyList<CheckpointToCheck> checkpoints)
        {
            _checkpoints = [.. checkpoints.Where(c => c is not null).OrderBy(c => c.TreeSize)];
            foreach (var checkpoint in _checkpoints.Where(c => !c.SignatureValid))
            {
                Findings.Add(new(TamperKind.CheckpointSignature, null, null, Text($"Checkpoint at tree size {checkpoint.TreeSize} signed at {checkpoint.SignedAt:O} with key {checkpoint.KeyId}: its signature does not verify.")));
            }

            while (_nextCheckpoint < _checkpoints.Count && _checkpoints[_nextCheckpoint].TreeSize <= 0)
            {
                CheckCheckpoint(_checkpoints[_nextCheckpoint++]);
            }
        }

        public MerkleAccumulator Accumulator { get; } = new();

        public List<LedgerFinding> Findings { get; } = [];

        public long Leaves => Accumulator.Size;

        public long Redacted { get; private set; }

        public void Classify(LedgerRow[] batch, RowFacts[] facts, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var row = batch[i];
                ref var f = ref facts[i];
                Append(row.LeafHash ?? []);
                CheckPosition(row);
                if (f.WellFormed)
                {
                    ReportPayload(row, f.Payload);
                }

                if (_previous is not null)
                {
                    ClassifyPrevious(row, ref f);
                }

                _previous = row;
                _previousFacts = f;
            }
        }

        public void Finish()
        {
            if (_previous is not null)
            {
                RowFacts none = default;
                ClassifyPrevious(null, ref none);
            }

            FlushPending(inserted: true);
            for (; _nextCheckpoint < _checkpoints.Count; _nextCheckpoint++)
            {
                var checkpoint = _checkpoints[_nextCheckpoint];
                Findings.Add(new(TamperKind.Deleted, Leaves, null, Text($"Checkpoint at tree size {checkpoint.TreeSize} signed at {checkpoint.SignedAt:O} but the ledger has {Leaves} leaves: indexes {Leaves} to {checkpoint.TreeSize - 1} deleted, or the store restored from an older backup.")));
            }
        }

        private void Append(byte[] leafHash)
        {
            // A malformed stored hash still takes its place in the tree, so that every later root keeps its meaning.
            Accumulator.Append(leafHash.Length == MerkleHash.Size ? leafHash : SHA256.HashData(leafHash));
            while (_nextCheckpoint < _checkpoints.Count && _checkpoints[_nextCheckpoint].TreeSize == Accumulator.Size)
            {
                CheckCheckpoint(_checkpoints[_nextCheckpoint++]);
            }
        }

        private void CheckCheckpoint(CheckpointToCheck checkpoint)
        {
            var root = Accumulator.Root();
            if (checkpoint.TreeSize < 0 || checkpoint.RootHash is null || !CryptographicOperations.FixedTimeEquals(root, checkpoint.RootHash))
            {
                Findings.Add(new(TamperKind.CheckpointMismatch, _previousCheckpointSize, null, Text($"Checkpoint at tree size {checkpoint.TreeSize} signed at {checkpoint.SignedAt:O}: the root recomputed from the stored leaves differs; something in indexes {_previousCheckpointSize} to {checkpoint.TreeSize - 1} changed since the previous checkpoint.")));
            }

            _previousCheckpointSize = Math.Max(_previousCheckpointSize, checkpoint.TreeSize);
        }

        private void CheckPosition(LedgerRow row)
        {
            if (row.Index > _expectedIndex)
            {
                var missing = row.Index - _expectedIndex;
                for (var index = _expectedIndex; index < _expectedIndex + Math.Min(missing, GapFindingsPerGap); index++)
                {
                    Findings.Add(new(TamperKind.Deleted, index, null, Text($"Leaf row at index {index} deleted: the indexes jump from {_expectedIndex - 1} to {row.Index}.")));
                }

                if (missing > GapFindingsPerGap)
                {
                    Findings.Add(new(TamperKind.Deleted, _expectedIndex + GapFindingsPerGap, null, Text($"Leaf rows at indexes {_expectedIndex + GapFindingsPerGap} to {row.Index - 1} deleted too.")));
                }
            }
            else if (row.Index < _expectedIndex)
            {
                Findings.Add(new(TamperKind.Inserted, row.Index, row.EventId, Text($"A second leaf row at index {row.Index}, or rows out of index order.")));
            }

            _expectedIndex = Math.Max(_expectedIndex, row.Index + 1);
        }

        private void ReportPayload(LedgerRow row, PayloadState state)
        {
            var detail = state switch
            {
                PayloadState.Redacted => null,
                PayloadState.Intact => null,
                PayloadState.RowMissing => "Payload row deleted while its leaf remains.",
                PayloadState.HalfRedacted => "Payload half redacted: exactly one of salt and payload is removed.",
                _ => "Payload changed: SHA-256(salt, payload) differs from the committed value.",
            };
            if (state == PayloadState.Redacted)
            {
                Redacted++;
            }

            if (detail is not null)
            {
                Findings.Add(new(TamperKind.Changed, row.Index, row.EventId, detail));
            }
        }

        private void ClassifyPrevious(LedgerRow? next, ref RowFacts nextFacts)
        {
            var row = _previous!;
            ref var f = ref _previousFacts;
            var inOrder = false;
            if (!f.WellFormed)
            {
                FlushPending(inserted: false);
                Findings.Add(new(TamperKind.Changed, row.Index, row.EventId, "Leaf row malformed: its leaf hash or payload commitment is not 32 bytes."));
            }
            else if (!f.Authentic)
            {
                FlushPending(inserted: false);
                if (f.ConsistentAtIndex)
                {
                    // A header with a matching, recomputed leaf hash but no seal: inserted if what follows shifted up
                    // (or nothing follows), else a row rewritten in place. The next row decides.
                    _pendingForged = row;
                }
                else
                {
                    Findings.Add(new(TamperKind.Changed, row.Index, row.EventId, "Leaf row changed: its header does not give its leaf hash, and its seal does not verify."));
                }
            }
            else
            {
                var offset = OffsetOf(row, ref f);
                if (offset == _shift)
                {
                    FlushPending(inserted: false);
                    inOrder = true;
                }
                else if (offset is not long d)
                {
                    FlushPending(inserted: false);
                    Findings.Add(new(TamperKind.Changed, row.Index, row.EventId, "Leaf row header changed after sealing: its sealed leaf hash matches no header at or near its index."));
                }
                else if (next is null ? _previousInOrder : nextFacts.WellFormed && nextFacts.Authentic && OffsetOf(next, ref nextFacts) == d)
                {
                    if (d < _shift)
                    {
                        if (_pendingForged is { } forged && forged.Index == row.Index - 1)
                        {
                            _pendingForged = null;
                            Findings.Add(new(TamperKind.Inserted, forged.Index, forged.EventId, Text($"Leaf row inserted at index {forged.Index}: it has no valid seal and the rows after it moved up by {_shift - d}.")));
                        }
                        else
                        {
                            FlushPending(inserted: false);
                            Findings.Add(new(TamperKind.Inserted, row.Index, null, Text($"Leaf rows inserted before index {row.Index}: the rows from here moved up by {_shift - d}.")));
                        }
                    }
                    else
                    {
                        FlushPending(inserted: false);
                        var first = row.Index + _shift;
                        Findings.Add(new(TamperKind.Deleted, first, null, d - _shift == 1
                            ? Text($"Leaf row at index {first} deleted and the rows after it re-indexed down.")
                            : Text($"Leaf rows at indexes {first} to {row.Index + d - 1} deleted and the rows after them re-indexed down.")));
                    }

                    _shift = d;
                    inOrder = true;
                }
                else
                {
                    FlushPending(inserted: false);
                    Findings.Add(new(TamperKind.Reordered, row.Index, row.EventId, Text($"Leaf row moved: its sealed header belongs at index {row.Index + d}.")));
                }
            }

            _previousInOrder = inOrder;
        }

        private void FlushPending(bool inserted)
        {
            if (_pendingForged is not { } forged)
            {
                return;
            }

            _pendingForged = null;
            Findings.Add(inserted
                ? new(TamperKind.Inserted, forged.Index, forged.EventId, Text($"Leaf row inserted at index {forged.Index}: it has no valid seal."))
                : new(TamperKind.Changed, forged.Index, forged.EventId, "Leaf row changed: its header and leaf hash were rewritten, and its seal does not verify."));
        }

        // Where this sealed row's header gives its stored leaf hash, relative to its index: the current shift first,
        // then the neighbours, then a bounded window.
        private long? OffsetOf(LedgerRow row, ref RowFacts f)
        {
            if (f.OffsetResolved)
            {
                return f.Offset;
            }

            f.OffsetResolved = true;
            if (f.ConsistentAtIndex)
            {
                return f.Offset = 0;
            }

            foreach (var candidate in (long[])[_shift, -1, 1])
            {
                if (candidate != 0 && MatchesAt(row, candidate))
                {
                    return f.Offset = candidate;
                }
            }

            if (_searches++ < SearchBudget)
            {
                for (long distance = 2; distance <= SearchWindow; distance++)
                {
                    if (-distance != _shift && MatchesAt(row, -distance))
                    {
                        return f.Offset = -distance;
                    }

                    if (distance != _shift && MatchesAt(row, distance))
                    {
                        return f.Offset = distance;
                    }
                }
            }

            return f.Offset = null;
        }

        private static bool MatchesAt(LedgerRow row, long offset)
        {
            Span<byte> hash = stackalloc byte[MerkleHash.Size];
            LeafHeader.LeafHash(row.Index + offset, row.EventId, row.AppendedAt, row.PayloadCommitment, hash);
            return hash.SequenceEqual(row.LeafHash);
        }

        private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
    }
}
