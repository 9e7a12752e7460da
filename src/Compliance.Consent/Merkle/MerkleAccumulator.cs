namespace Compliance.Consent.Merkle;

/// <summary>
/// The compact range of an append-only Merkle tree: one hash per left-aligned perfect subtree (one per set bit of
/// <see cref="Size"/>), so O(log n) state. Append leaf hashes in order and read the RFC 9162 root at any time.
/// Not thread-safe.
/// </summary>
public sealed class MerkleAccumulator
{
    // 64 levels cover any long size; subtree hashes are kept in one flat buffer, largest (leftmost) first.
    private readonly byte[] _stack = new byte[64 * MerkleHash.Size];
    private int _count;

    /// <summary>The number of leaf hashes appended so far.</summary>
    public long Size { get; private set; }

    /// <summary>Appends the next leaf hash (32 bytes).</summary>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException("A leaf hash is 32 bytes.", nameof(leafHash));
        }

        leafHash.CopyTo(Slot(_count));
        _count++;
        // Each trailing one bit of the old size is a perfect subtree that the new leaf completes into a larger one.
        for (var size = Size; (size & 1) == 1; size >>= 1)
        {
            MerkleHash.Node(Slot(_count - 2), Slot(_count - 1), Slot(_count - 2));
            _count--;
        }

        Size++;
    }

    /// <summary>The root over everything appended so far; <see cref="MerkleHash.EmptyRoot"/> when empty.</summary>
    public byte[] Root()
    {
        if (_count == 0)
        {
            return MerkleHash.EmptyRoot();
        }

        var root = Slot(_count - 1).ToArray();
        for (var i = _count - 2; i >= 0; i--)
        {
            MerkleHash.Node(Slot(i), root, root);
        }

        return root;
    }

    /// <summary>An independent copy, to read or extend without changing this one.</summary>
    public MerkleAccumulator Clone()
    {
        var clone = new MerkleAccumulator { Size = Size, _count = _count };
        _stack.AsSpan(0, _count * MerkleHash.Size).CopyTo(clone._stack);
        return clone;
    }

    private Span<byte> Slot(int i) => _stack.AsSpan(i * MerkleHash.Size, MerkleHash.Size);
}
