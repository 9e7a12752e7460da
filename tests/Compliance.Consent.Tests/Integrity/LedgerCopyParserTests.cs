using System.Buffers.Binary;
using Compliance.Consent.Integrity;
using Compliance.Consent.Verification;

namespace Compliance.Consent.Tests.Integrity;

/// <summary>
/// The parser of PostgreSQL's binary COPY stream that feeds verification: rows come out the same wherever the network
/// splits the stream, and a stream that is not what the query returns is refused with a plain exception, never read as
/// something else. The end-to-end path runs in <c>LedgerTamperTests_Postgres</c>.
/// </summary>
public sealed class LedgerCopyParserTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 4, 9, 30, 15, 123456 / 1000, TimeSpan.Zero);

    private static readonly LedgerRow[] Rows =
    [
        new(0, Guid.CreateVersion7(), At, Filled(32, 1), Filled(32, 2), Filled(32, 3), true, Filled(32, 4), Filled(700, 5)),
        new(1, Guid.CreateVersion7(), At.AddTicks(10), Filled(32, 6), Filled(32, 7), Filled(32, 8), true, null, null),
        new(2, Guid.CreateVersion7(), At.AddDays(1), Filled(32, 9), Filled(32, 10), Filled(32, 11), false, null, null),
        new(3, Guid.CreateVersion7(), At, Filled(32, 12), Filled(32, 13), Filled(32, 14), true, [], []),
    ];

    [Fact]
    public void Parse_StreamSplitAtEveryByte_GivesTheSameRows()
    {
        var stream = Copy(Rows.Select(Tuple));

        for (var split = 1; split < stream.Length; split += 7)
        {
            var (rows, done) = ParseInChunks(stream, split);

            done.ShouldBeTrue($"chunks of {split} bytes reach the trailer");
            rows.Count.ShouldBe(Rows.Length);
            for (var i = 0; i < Rows.Length; i++)
            {
                ShouldBeSame(rows[i], Rows[i]);
            }
        }
    }

    [Fact]
    public void Parse_StreamCutBeforeItsTrailer_IsNotDone()
    {
        var stream = Copy(Rows.Select(Tuple));

        var (rows, done) = ParseInChunks(stream[..^10], 4096);

        done.ShouldBeFalse();
        rows.Count.ShouldBe(Rows.Length - 1, "the last row is incomplete, so it is not given");
    }

    [Fact]
    public void Parse_NotBinaryCopy_IsRefused()
    {
        var stream = Copy(Rows.Select(Tuple));
        stream[0] = (byte)'X';

        Should.Throw<InvalidDataException>(() => ParseInChunks(stream, 4096));
    }

    [Fact]
    public void Parse_RowOfEightFields_IsRefused()
    {
        var fields = Tuple(Rows[0]).Take(8).ToArray();

        var refused = Should.Throw<InvalidDataException>(() => ParseInChunks(Copy([fields]), 4096));

        refused.Message.ShouldContain("8 fields");
    }

    [Fact]
    public void Parse_NegativeFieldLength_IsRefused()
    {
        var stream = Copy(Rows.Take(1).Select(Tuple));
        BinaryPrimitives.WriteInt32BigEndian(stream.AsSpan(19 + 2), -7); // the first field's length

        Should.Throw<InvalidDataException>(() => ParseInChunks(stream, 4096));
    }

    [Fact]
    public void Parse_EventIdOfWrongLength_IsRefusedNamingTheColumn()
    {
        var fields = Tuple(Rows[0]);
        fields[1] = new byte[15];

        var refused = Should.Throw<InvalidDataException>(() => ParseInChunks(Copy([fields]), 4096));

        refused.Message.ShouldContain("event_id");
    }

    [Fact]
    public void Parse_InfiniteAppendTime_GivesTheLatestTimeNotAnException()
    {
        var fields = Tuple(Rows[0]);
        fields[2] = BigEndian(long.MaxValue); // PostgreSQL's 'infinity'

        var (rows, _) = ParseInChunks(Copy([fields]), 4096);

        rows.Single().AppendedAt.ShouldBe(DateTimeOffset.MaxValue);
    }

    private static (List<LedgerRow> Rows, bool Done) ParseInChunks(byte[] stream, int chunk)
    {
        // As PostgresLedgerCopy reads: whatever was not used stays in front of the next chunk.
        var parser = new LedgerCopyParser();
        var rows = new List<LedgerRow>();
        var pending = Array.Empty<byte>();
        for (var at = 0; at < stream.Length && !parser.Done; at += chunk)
        {
            pending = [.. pending, .. stream.AsSpan(at, Math.Min(chunk, stream.Length - at))];
            pending = pending[parser.Parse(pending, rows)..];
        }

        return (rows, parser.Done);
    }

    private static void ShouldBeSame(LedgerRow actual, LedgerRow expected)
    {
        actual.Index.ShouldBe(expected.Index);
        actual.EventId.ShouldBe(expected.EventId);
        actual.AppendedAt.ShouldBe(expected.AppendedAt);
        actual.AppendedAt.Offset.ShouldBe(TimeSpan.Zero);
        actual.PayloadCommitment.ShouldBe(expected.PayloadCommitment);
        actual.LeafHash.ShouldBe(expected.LeafHash);
        actual.Seal.ShouldBe(expected.Seal);
        actual.HasPayloadRow.ShouldBe(expected.HasPayloadRow);
        actual.Salt.ShouldBe(expected.Salt);
        actual.Payload.ShouldBe(expected.Payload);
    }

    // The nine fields as PostgreSQL sends them in binary: int8, uuid, timestamptz, bytea ×3, bool, bytea ×2 (null: null).
    private static byte[]?[] Tuple(LedgerRow row)
    {
        var micros = (row.AppendedAt.UtcTicks - new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / TimeSpan.TicksPerMicrosecond;
        return [BigEndian(row.Index), row.EventId.ToByteArray(bigEndian: true), BigEndian(micros), row.PayloadCommitment, row.LeafHash, row.Seal,
            [row.HasPayloadRow ? (byte)1 : (byte)0], row.Salt, row.Payload];
    }

    private static byte[] Copy(IEnumerable<byte[]?[]> tuples)
    {
        var stream = new List<byte>("PGCOPY\n"u8.ToArray()) { 0xFF, (byte)'\r', (byte)'\n', 0 };
        stream.AddRange(new byte[4]); // flags
        stream.AddRange(BigEndian32(0)); // no header extension
        foreach (var fields in tuples)
        {
            stream.AddRange([(byte)(fields.Length >> 8), (byte)fields.Length]);
            foreach (var field in fields)
            {
                stream.AddRange(BigEndian32(field?.Length ?? -1));
                stream.AddRange(field ?? []);
            }
        }

        stream.AddRange([0xFF, 0xFF]);
        return [.. stream];
    }

    private static byte[] BigEndian(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Filled(int length, byte value) => [.. Enumerable.Repeat(value, length)];
}
