using System.Security.Cryptography;
using System.Text;
using Compliance.Consent.Merkle;
using Compliance.Consent.Verification;

namespace Compliance.Consent.Tests.Verification;

public sealed class LedgerVerifierTests
{
    private static readonly byte[] SealKey = [.. Enumerable.Repeat((byte)0x5a, 32)];
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private sealed class TestSeal(byte[] key) : ILeafSeal
    {
        public ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken) =>
            ValueTask.FromResult(HMACSHA256.HashData(key, leafHash.Span));
    }

    private static readonly TestSeal Seal = new(SealKey);

    private static LedgerRow Row(long index, Guid? id = null, DateTimeOffset? at = null, byte[]? payload = null, byte[]? sealKey = null)
    {
        var salt = RandomNumberGenerator.GetBytes(32);
        payload ??= Encoding.UTF8.GetBytes($"{{\"subject\":\"s-{index}\",\"purpose\":\"teleconsultation\",\"state\":\"granted\"}}");
        var commitment = LeafHeader.Commit(salt, payload);
        var header = new LeafHeader(index, id ?? Guid.NewGuid(), at ?? Start.AddSeconds(index), commitment);
        var leafHash = header.LeafHash();
        return new LedgerRow(index, header.EventId, header.AppendedAt, commitment, leafHash, HMACSHA256.HashData(sealKey ?? SealKey, leafHash), true, salt, payload);
    }

    private static List<LedgerRow> Ledger(int n) => [.. Enumerable.Range(0, n).Select(i => Row(i))];

    private static List<CheckpointToCheck> Checkpoints(List<LedgerRow> rows, params long[] sizes) =>
        [.. sizes.Select(s => new CheckpointToCheck(s, MerkleTree.Root([.. rows.Select(r => r.LeafHash)], s), Start.AddHours(s), "attest-1", true))];

    private static async IAsyncEnumerable<LedgerRow> Stream(IEnumerable<LedgerRow> rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    private static Task<LedgerVerification> Verify(IEnumerable<LedgerRow> rows, IReadOnlyList<CheckpointToCheck> checkpoints, params Guid[] payloadsWithoutLeaf) =>
        LedgerVerifier.VerifyAsync(Stream(rows), checkpoints, payloadsWithoutLeaf, Seal, CancellationToken.None);

    private static LedgerRow Reindexed(LedgerRow row, long index) => row with { Index = index };

    [Fact]
    public async Task Verify_UntouchedLedger_IsIntactWithItsRoot()
    {
        var rows = Ledger(10_000);
        var checkpoints = Checkpoints(rows, 4096, 5000, 10_000);

        var result = await Verify(rows, checkpoints);

        result.Findings.ShouldBeEmpty();
        result.Intact.ShouldBeTrue();
        result.Leaves.ShouldBe(10_000);
        result.CheckpointsChecked.ShouldBe(3);
        result.Root.ShouldBe(MerkleTree.Root([.. rows.Select(r => r.LeafHash)]));
    }

    [Fact]
    public async Task Verify_PayloadByteChanged_IsChangedAtThatEvent()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        var payload = (byte[])rows[7].Payload!.Clone();
        payload[3] ^= 1;
        rows[7] = rows[7] with { Payload = payload };

        var result = await Verify(rows, checkpoints);

        var finding = result.Findings.ShouldHaveSingleItem();
        finding.ShouldBe(finding with { Kind = TamperKind.Changed, Index = 7, EventId = rows[7].EventId });
        finding.Detail.ShouldNotContain("teleconsultation");
    }

    [Fact]
    public async Task Verify_HeaderChangedWithoutNewLeafHash_IsChangedAtThatEvent()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        rows[5] = rows[5] with { AppendedAt = rows[5].AppendedAt.AddDays(-3) };

        var result = await Verify(rows, checkpoints);

        var finding = result.Findings.ShouldHaveSingleItem();
        (finding.Kind, finding.Index, finding.EventId).ShouldBe((TamperKind.Changed, 5L, rows[5].EventId));
    }

    [Fact]
    public async Task Verify_HeaderChangedWithRecomputedLeafHash_IsChangedAndTheCheckpointMismatches()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 8, 20);
        var at = rows[12].AppendedAt.AddDays(-3);
        var leafHash = new LeafHeader(12, rows[12].EventId, at, rows[12].PayloadCommitment).LeafHash();
        rows[12] = rows[12] with { AppendedAt = at, LeafHash = leafHash };

        var result = await Verify(rows, checkpoints);

        result.Findings.Select(f => (f.Kind, f.Index, f.EventId)).ShouldBe(
            [(TamperKind.CheckpointMismatch, 8L, null), (TamperKind.Changed, 12L, rows[12].EventId)], ignoreOrder: true);
        result.Findings.Single(f => f.Kind == TamperKind.CheckpointMismatch).Detail.ShouldContain("indexes 8 to 19");
    }

    [Fact]
    public async Task Verify_TwoRowsSwapped_IsReorderedAtBoth()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        (rows[4], rows[9]) = (Reindexed(rows[9], 4), Reindexed(rows[4], 9));

        var result = await Verify(rows, checkpoints);

        result.Findings.Where(f => f.Kind != TamperKind.CheckpointMismatch).Select(f => (f.Kind, f.Index, f.EventId)).ShouldBe(
            [(TamperKind.Reordered, 4L, rows[4].EventId), (TamperKind.Reordered, 9L, rows[9].EventId)]);
        result.Findings.Count(f => f.Kind == TamperKind.CheckpointMismatch).ShouldBe(1);
    }

    [Fact]
    public async Task Verify_AdjacentRowsSwapped_IsReorderedAtBoth()
    {
        var rows = Ledger(20);
        (rows[18], rows[19]) = (Reindexed(rows[19], 18), Reindexed(rows[18], 19));

        var result = await Verify(rows, []);

        result.Findings.Select(f => (f.Kind, f.Index)).ShouldBe([(TamperKind.Reordered, 18L), (TamperKind.Reordered, 19L)]);
    }

    [Fact]
    public async Task Verify_MiddleRowDeletedWithoutReindexing_IsDeletedAtItsIndex()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        var deleted = rows[6];
        rows.RemoveAt(6);

        var result = await Verify(rows, checkpoints, deleted.EventId);

        result.Findings.Where(f => f.Kind == TamperKind.Deleted).Select(f => (f.Index, f.EventId)).ShouldBe(
            [(6L, (Guid?)null), (19L, null), (null, deleted.EventId)]);
        result.Findings.ShouldAllBe(f => f.Kind == TamperKind.Deleted);
    }

    [Fact]
    public async Task Verify_MiddleRowDeletedAndRowsReindexed_IsOneDeletedAtItsIndex()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        rows.RemoveAt(6);
        rows = [.. rows.Select((r, i) => Reindexed(r, i))];

        var result = await Verify(rows, checkpoints);

        result.Findings.Select(f => (f.Kind, f.Index)).ShouldBe([(TamperKind.Deleted, 6L), (TamperKind.Deleted, 19L)]);
        result.Findings[1].Detail.ShouldContain("checkpoint", Case.Insensitive);
    }

    [Fact]
    public async Task Verify_TailDeleted_IsDeletedFromTheCheckpoint()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 10, 20);

        var result = await Verify(rows.Take(15), checkpoints);

        var finding = result.Findings.ShouldHaveSingleItem();
        (finding.Kind, finding.Index).ShouldBe((TamperKind.Deleted, 15L));
        finding.Detail.ShouldContain("15 to 19");
    }

    [Fact]
    public async Task Verify_ForgedRowInsertedInTheMiddleAndRowsReindexed_IsOneInsertedAtTheForgedEvent()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        var forged = Row(8, sealKey: new byte[32]);
        rows.Insert(8, forged);
        rows = [.. rows.Select((r, i) => i > 8 ? Reindexed(r, i) : r)];

        var result = await Verify(rows, checkpoints);

        result.Findings.Select(f => (f.Kind, f.Index, f.EventId)).ShouldBe(
            [(TamperKind.CheckpointMismatch, 0L, null), (TamperKind.Inserted, 8L, forged.EventId)], ignoreOrder: true);
    }

    [Fact]
    public async Task Verify_ForgedRowAtTheEnd_IsInserted()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        var forged = Row(20, sealKey: new byte[32]);

        var result = await Verify([.. rows, forged], checkpoints);

        result.Findings.Select(f => (f.Kind, f.Index, f.EventId)).ShouldBe([(TamperKind.Inserted, 20L, forged.EventId)]);
    }

    [Fact]
    public async Task Verify_CheckpointWithWrongRoot_IsCheckpointMismatchNamingTheRange()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 8);
        checkpoints.Add(new CheckpointToCheck(16, new byte[32], Start, "attest-1", true));

        var result = await Verify(rows, checkpoints);

        var finding = result.Findings.ShouldHaveSingleItem();
        (finding.Kind, finding.Index).ShouldBe((TamperKind.CheckpointMismatch, 8L));
        finding.Detail.ShouldContain("indexes 8 to 15");
    }

    [Fact]
    public async Task Verify_CheckpointWithBadSignature_IsCheckpointSignature()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        checkpoints[0] = checkpoints[0] with { SignatureValid = false };

        var result = await Verify(rows, checkpoints);

        result.Findings.ShouldHaveSingleItem().Kind.ShouldBe(TamperKind.CheckpointSignature);
    }

    [Fact]
    public async Task Verify_RedactionDoneRight_IsIntactAndCounted()
    {
        var rows = Ledger(20);
        var checkpoints = Checkpoints(rows, 20);
        rows[3] = rows[3] with { Salt = null, Payload = null };

        var result = await Verify(rows, checkpoints);

        result.Findings.ShouldBeEmpty();
        result.Redacted.ShouldBe(1);
    }

    [Fact]
    public async Task Verify_RedactionThatOnlyNullsTheSalt_IsChanged()
    {
        var rows = Ledger(20);
        rows[3] = rows[3] with { Salt = null };

        var result = await Verify(rows, []);

        var finding = result.Findings.ShouldHaveSingleItem();
        (finding.Kind, finding.Index, finding.EventId).ShouldBe((TamperKind.Changed, 3L, rows[3].EventId));
        result.Redacted.ShouldBe(0);
    }

    [Fact]
    public async Task Verify_PayloadRowDeleted_IsChangedSayingSo()
    {
        var rows = Ledger(20);
        rows[11] = rows[11] with { HasPayloadRow = false, Salt = null, Payload = null };

        var result = await Verify(rows, []);

        var finding = result.Findings.ShouldHaveSingleItem();
        (finding.Kind, finding.Index, finding.EventId).ShouldBe((TamperKind.Changed, 11L, rows[11].EventId));
        finding.Detail.ShouldContain("payload row deleted", Case.Insensitive);
    }

    [Fact]
    public async Task Verify_MalformedHashes_AreChangedNotAnException()
    {
        var rows = Ledger(20);
        rows[2] = rows[2] with { LeafHash = [1, 2, 3] };
        rows[4] = rows[4] with { PayloadCommitment = null!, Seal = null! };

        var result = await Verify(rows, []);

        result.Findings.Select(f => (f.Kind, f.Index)).ShouldBe([(TamperKind.Changed, 2L), (TamperKind.Changed, 4L)]);
    }

    [Fact]
    public async Task Verify_TamperingAcrossBatchBoundaries_IsNamedExactly()
    {
        var rows = Ledger(10_000);
        var checkpoints = Checkpoints(rows, 4096, 10_000);
        (rows[4095], rows[4096]) = (Reindexed(rows[4096], 4095), Reindexed(rows[4095], 4096));
        var payload = (byte[])rows[8191].Payload!.Clone();
        payload[0] ^= 1;
        rows[8191] = rows[8191] with { Payload = payload };
        rows.RemoveAt(8192);
        rows = [.. rows.Select((r, i) => i >= 8192 ? Reindexed(r, i) : r)];

        var result = await Verify(rows, checkpoints);

        result.Findings.Select(f => (f.Kind, f.Index)).ShouldBe(
            [(TamperKind.CheckpointMismatch, 0L), (TamperKind.Reordered, 4095L), (TamperKind.Reordered, 4096L), (TamperKind.Changed, 8191L),
             (TamperKind.Deleted, 8192L), (TamperKind.Deleted, 9999L)], ignoreOrder: true);
    }

    [Fact]
    public async Task Verify_SourceFailsAfterManyBatches_ThrowsItsOwnException()
    {
        var rows = Ledger(50);
        static async IAsyncEnumerable<LedgerRow> Failing(List<LedgerRow> rows)
        {
            // More than the batches in flight, so the failure comes while earlier batches are still being checked.
            for (var i = 0; i < 40_000; i++)
            {
                await Task.CompletedTask;
                yield return Reindexed(rows[i % rows.Count], i);
            }

            throw new InvalidOperationException("the store went away");
        }

        var thrown = await Should.ThrowAsync<InvalidOperationException>(() =>
            LedgerVerifier.VerifyAsync(Failing(rows), [], [], Seal, CancellationToken.None));

        thrown.Message.ShouldBe("the store went away");
    }

    [Fact]
    public async Task Verify_NullRow_IsRefused()
    {
        var rows = Ledger(3).Append(null!).Concat(Ledger(3));

        await Should.ThrowAsync<ArgumentException>(() => LedgerVerifier.VerifyAsync(Stream(rows), [], [], Seal, CancellationToken.None));
    }

    [Fact]
    public async Task Verify_CancelledWhileReading_StopsWithCancellation()
    {
        using var cancel = new CancellationTokenSource();
        async IAsyncEnumerable<LedgerRow> Endless()
        {
            var row = Row(0);
            for (long i = 0; ; i++)
            {
                if (i == 20_000)
                {
                    await cancel.CancelAsync();
                }

                await Task.CompletedTask;
                yield return Reindexed(row, i);
            }
        }

        await Should.ThrowAsync<OperationCanceledException>(() => LedgerVerifier.VerifyAsync(Endless(), [], [], Seal, cancel.Token));
    }
}
