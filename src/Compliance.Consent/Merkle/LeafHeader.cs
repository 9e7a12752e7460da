using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Compliance.Consent.Merkle;

/// <summary>
/// What a ledger leaf commits to: the event's position, id and time, and the commitment to its payload. Nothing here
/// is personal data, so a redaction (which removes the payload and its salt) leaves every leaf and root intact.
/// </summary>
public sealed record LeafHeader(long Index, Guid EventId, DateTimeOffset AppendedAt, byte[] PayloadCommitment)
{
    public const byte Version = 1;

    /// <summary>The encoded length: version, index, event id, time, commitment.</summary>
    public const int EncodedLength = 1 + 8 + 16 + 8 + 32;

    [ThreadStatic]
    private static IncrementalHash? t_sha;

    /// <summary>0x01 ‖ Index (int64 BE) ‖ EventId (16 bytes, big-endian layout) ‖ AppendedAt (Unix µs, int64 BE) ‖ PayloadCommitment.</summary>
    public byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        Encode(Index, EventId, AppendedAt, PayloadCommitment, encoded);
        return encoded;
    }

    /// <summary>MerkleHash.Leaf(Encode()).</summary>
    public byte[] LeafHash()
    {
        var hash = new byte[MerkleHash.Size];
        LeafHash(Index, EventId, AppendedAt, PayloadCommitment, hash);
        return hash;
    }

    /// <summary>The payload commitment: SHA-256(salt ‖ payload).</summary>
    public static byte[] Commit(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> payload)
    {
        var commitment = new byte[MerkleHash.Size];
        Commit(salt, payload, commitment);
        return commitment;
    }

    /// <summary>SHA-256(salt ‖ payload) into <paramref name="destination"/>, without allocating (one hasher per thread).</summary>
    public static void Commit(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var sha = t_sha ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(salt);
        sha.AppendData(payload);
        sha.GetHashAndReset(destination);
    }

    /// <summary>Encodes a header into 65 bytes; refuses a commitment that is not 32 bytes.</summary>
    public static void Encode(long index, Guid eventId, DateTimeOffset appendedAt, ReadOnlySpan<byte> payloadCommitment, Span<byte> destination)
    {
        if (payloadCommitment.Length != MerkleHash.Size)
        {
            throw new ArgumentException("A payload commitment is 32 bytes.", nameof(payloadCommitment));
        }

        if (destination.Length < EncodedLength)
        {
            throw new ArgumentException("The destination is shorter than an encoded header.", nameof(destination));
        }

        destination[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(destination[1..], index);
        eventId.TryWriteBytes(destination[9..25], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(destination[25..], UnixMicroseconds(appendedAt));
        payloadCommitment.CopyTo(destination[33..]);
    }

    /// <summary>The leaf hash of a header given field by field, into <paramref name="destination"/> (32 bytes).</summary>
    public static void LeafHash(long index, Guid eventId, DateTimeOffset appendedAt, ReadOnlySpan<byte> payloadCommitment, Span<byte> destination)
    {
        Span<byte> encoded = stackalloc byte[EncodedLength];
        Encode(index, eventId, appendedAt, payloadCommitment, encoded);
        MerkleHash.Leaf(encoded, destination);
    }

    // Exact for the microsecond values the store writes; anything finer is floored, as PostgreSQL would store it.
    private static long UnixMicroseconds(DateTimeOffset value)
    {
        var ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var micros = ticks / TimeSpan.TicksPerMicrosecond;
        return ticks % TimeSpan.TicksPerMicrosecond < 0 ? micros - 1 : micros;
    }
}
