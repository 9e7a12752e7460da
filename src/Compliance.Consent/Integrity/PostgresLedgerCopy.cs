using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Compliance.Consent.Verification;
using Npgsql;

namespace Compliance.Consent.Integrity;

/// <summary>
/// The leaves joined with their payloads in index order, read from PostgreSQL as one binary <c>COPY … TO STDOUT</c> and
/// parsed here. A query reader costs the client a type lookup, a boxed value and a copy per column; this reads each
/// row's nine fields straight out of one large buffer (the profile in benchmarks/README.md, "Consent ledger").
/// </summary>
internal static class PostgresLedgerCopy
{
    public const string Sql = """
        COPY (SELECT l.leaf_index, l.event_id, l.appended_at, l.payload_commitment, l.leaf_hash, l.seal,
                     p.event_id IS NOT NULL, p.salt, p.payload
              FROM consent_leaves l LEFT JOIN consent_payloads p ON p.event_id = l.event_id
              ORDER BY l.leaf_index) TO STDOUT (FORMAT BINARY)
        """;

    private const int InitialBuffer = 1 << 20;

    public static async IAsyncEnumerable<LedgerRow> RowsAsync(NpgsqlConnection connection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = await connection.BeginRawBinaryCopyAsync(Sql, cancellationToken);
        var parser = new LedgerCopyParser();
        var rows = new List<LedgerRow>(1024);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                start += parser.Parse(buffer.AsSpan(start, end - start), rows);
                foreach (var row in rows)
                {
                    yield return row;
                }

                rows.Clear();
                if (parser.Done)
                {
                    break;
                }

                // Keep the incomplete row's bytes, at the front of a buffer large enough for it.
                var pending = end - start;
                if (pending == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(start, pending).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                else if (start > 0)
                {
                    buffer.AsSpan(start, pending).CopyTo(buffer);
                }

                (start, end) = (0, pending);
                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException("The ledger's COPY stream ended before its trailer.");
                }

                end += read;
            }

            // Read to the end, so that the connection is left ready for the next command.
            if (end > start || await stream.ReadAsync(buffer.AsMemory(), cancellationToken) != 0)
            {
                throw new InvalidDataException("The ledger's COPY stream has bytes after its trailer.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// PostgreSQL's binary COPY format (a signature, flags and an extension area, then per tuple a 16-bit field count and
/// each field as a 32-bit length, -1 for NULL, and its bytes; a count of -1 ends it) for the nine columns of
/// <see cref="PostgresLedgerCopy.Sql"/>. Anything else is refused with <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class LedgerCopyParser
{
    private const int Fields = 9;

    // Microseconds since 2000-01-01 UTC, PostgreSQL's timestamp epoch, as .NET ticks.
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    // "PGCOPY\n\xff\r\n\0"
    private static ReadOnlySpan<byte> Signature => [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];

    private bool _headerRead;

    public bool Done { get; private set; }

    /// <summary>Parses the complete rows at the start of <paramref name="input"/> into <paramref name="rows"/>; returns the bytes used.</summary>
    public int Parse(ReadOnlySpan<byte> input, List<LedgerRow> rows)
    {
        var used = 0;
        if (!_headerRead)
        {
            // Signature (11 bytes), flags (4), extension length (4), extension.
            if (input.Length < 19)
            {
                return 0;
            }

            if (!input[..11].SequenceEqual(Signature))
            {
                throw new InvalidDataException("The ledger's COPY stream is not PostgreSQL's binary COPY format.");
            }

            var extension = BinaryPrimitives.ReadInt32BigEndian(input[15..]);
            if (extension < 0)
            {
                throw new InvalidDataException("The ledger's COPY header has a negative extension length.");
            }

            if (input.Length - 19 < extension)
            {
                return 0;
            }

            used = 19 + extension;
            _headerRead = true;
        }

        Span<Range> fields = stackalloc Range[Fields];
        while (!Done && TryRow(input[used..], fields, out var length, out var row))
        {
            used += length;
            if (row is not null)
            {
                rows.Add(row);
            }
        }

        return used;
    }

    // One tuple, or the trailer (row null, Done set); false when the input stops inside it.
    private bool TryRow(ReadOnlySpan<byte> input, Span<Range> fields, out int length, out LedgerRow? row)
    {
        length = 0;
        row = null;
        if (input.Length < 2)
        {
            return false;
        }

        var count = BinaryPrimitives.ReadInt16BigEndian(input);
        if (count == -1)
        {
            Done = true;
            length = 2;
            return true;
        }

        if (count != Fields)
        {
            throw new InvalidDataException($"A ledger row in the COPY stream has {count} fields, not {Fields}.");
        }

        var at = 2;
        for (var i = 0; i < Fields; i++)
        {
            if (input.Length - at < 4)
            {
                return false;
            }

            var size = BinaryPrimitives.ReadInt32BigEndian(input[at..]);
            at += 4;
            if (size < -1)
            {
                throw new InvalidDataException("A field in the ledger's COPY stream has a negative length.");
            }

            if (size == -1)
            {
                fields[i] = ^0..^0; // NULL: the only range here counted from the end
                continue;
            }

            if (input.Length - at < size)
            {
                return false;
            }

            fields[i] = new Range(at, at + size);
            at += size;
        }

        row = new LedgerRow(
            Int64(input, fields[0], "leaf_index"),
            new Guid(Fixed(input, fields[1], 16, "event_id"), bigEndian: true),
            Timestamp(Int64(input, fields[2], "appended_at")),
            Bytes(input, fields[3]) ?? [],
            Bytes(input, fields[4]) ?? [],
            Bytes(input, fields[5]) ?? [],
            Fixed(input, fields[6], 1, "payload row")[0] != 0,
            Bytes(input, fields[7]),
            Bytes(input, fields[8]));
        length = at;
        return true;
    }

    private static bool IsNull(Range field) => field.Start.IsFromEnd;

    private static byte[]? Bytes(ReadOnlySpan<byte> input, Range field) => IsNull(field) ? null : input[field].ToArray();

    private static long Int64(ReadOnlySpan<byte> input, Range field, string column) =>
        BinaryPrimitives.ReadInt64BigEndian(Fixed(input, field, 8, column));

    private static ReadOnlySpan<byte> Fixed(ReadOnlySpan<byte> input, Range field, int size, string column)
    {
        if (IsNull(field) || input[field].Length != size)
        {
            throw new InvalidDataException($"The ledger's COPY stream has a {column} that is not {size} bytes.");
        }

        return input[field];
    }

    // A time beyond what DateTimeOffset holds (PostgreSQL's infinity among them) cannot be a stored append time: the
    // nearest bound keeps the row, and its header then fails its leaf hash and is named.
    private static DateTimeOffset Timestamp(long microseconds)
    {
        var maximum = (DateTimeOffset.MaxValue.UtcTicks - PostgresEpochTicks) / TimeSpan.TicksPerMicrosecond;
        var minimum = -PostgresEpochTicks / TimeSpan.TicksPerMicrosecond;
        return microseconds > maximum ? DateTimeOffset.MaxValue
            : microseconds < minimum ? DateTimeOffset.MinValue
            : new DateTimeOffset(PostgresEpochTicks + (microseconds * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);
    }
}
