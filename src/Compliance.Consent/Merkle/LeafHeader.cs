using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Compliance.Consent.Merkle;

/// <summary>Placeholder of the leaf encoding (replaced by the merkle branch).</summary>
public sealed record LeafHeader(long Index, Guid EventId, DateTimeOffset AppendedAt, byte[] PayloadCommitment)
{
    public const byte Version = 1;

    public byte[] Encode()
    {
        var buffer = new byte[65];
        buffer[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(1), Index);
        EventId.TryWriteBytes(buffer.AsSpan(9), bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(25), (AppendedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10);
        PayloadCommitment.CopyTo(buffer, 33);
        return buffer;
    }

    public byte[] LeafHash() => MerkleHash.Leaf(Encode());

    public static byte[] Commit(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> payload)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(salt);
        sha.AppendData(payload);
        return sha.GetHashAndReset();
    }
}
