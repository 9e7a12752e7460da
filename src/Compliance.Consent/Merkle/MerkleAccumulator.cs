namespace Compliance.Consent.Merkle;

/// <summary>
/// The roots of the complete subtrees a log of any size splits into (its "compact range"): O(log n) state. Append leaf
/// hashes in order and read the RFC 9162 root of everything appended so far at any time.
/// </summary>
public sealed class MerkleAccumulator
{
    private readonly List<(int Height, byte[] Hash)> _stack = [];

    public long Size { get; private set; }

    public void Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException("A leaf hash is 32 bytes.", nameof(leafHash));
        }

        var hash = leafHash.ToArray();
        var height = 0;
        while (_stack.Count > 0 && _stack[^1].Height == height)
        {
            hash = MerkleHash.Node(_stack[^1].Hash, hash);
            _stack.RemoveAt(_stack.Count - 1);
            height++;
        }

        _stack.Add((height, hash));
        Size++;
    }

    /// <summary>The root: the complete subtrees folded from the right, as MTH splits at the largest power of two.</summary>
    public byte[] Root()
    {
        if (_stack.Count == 0)
        {
            return MerkleHash.EmptyRoot();
        }

        var root = _stack[^1].Hash;
        for (var i = _stack.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_stack[i].Hash, root);
        }

        return root;
    }

    public MerkleAccumulator Clone()
    {
        var clone = new MerkleAccumulator { Size = Size };
        clone._stack.AddRange(_stack);
        return clone;
    }
}
