using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Compliance.Consent.Merkle;

/// <summary>
/// What a leaf commits to: its position, its event's id, when it was appended, and the commitment to its payload
/// (SHA-256 of salt ‖ payload). Nothing a redaction must remove: no subject, purpose or state.
/// </summary>
public sealed record LeafHeader(long Index, Guid EventId, DateTimeOffset AppendedAt, byte[] PayloadCommitment)
{
    public const byte Version = 1;

    public const int EncodedLength = 1 + 8 + 16 + 8 + MerkleHash.Size;

    /// <summary>65 bytes: 0x01 ‖ index (int64 BE) ‖ event id (16 bytes, big-endian) ‖ appended-at (Unix µs, int64 BE) ‖ commitment.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[EncodedLength];
        Encode(buffer);
        return buffer;
    }

    public void Encode(Span<byte> buffer)
    {
        if (PayloadCommitment is not { Length: MerkleHash.Size })
        {
            throw new InvalidOperationException("A payload commitment is 32 bytes.");
        }

        buffer[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], Index);
        EventId.TryWriteBytes(buffer[9..], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(buffer[25..], Microseconds(AppendedAt));
        PayloadCommitment.CopyTo(buffer[33..]);
    }

    public byte[] LeafHash()
    {
        Span<byte> buffer = stackalloc byte[EncodedLength];
        Encode(buffer);
        return MerkleHash.Leaf(buffer);
    }

    /// <summary>SHA-256(salt ‖ payload).</summary>
    public static byte[] Commit(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> payload)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(salt);
        sha.AppendData(payload);
        return sha.GetHashAndReset();
    }

    /// <summary>Microseconds since the Unix epoch; the store keeps times to the microsecond.</summary>
    public static long Microseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
