using System.Numerics;

namespace Compliance.Consent.Merkle;

/// <summary>
/// The Merkle tree hash of RFC 9162 §2.1.1 over leaf hashes, with inclusion (§2.1.3) and consistency (§2.1.4) proofs
/// and their verification. Proof generation walks each sibling subtree once: O(n) for a tree of n leaves.
/// Verification never throws: a malformed proof or an out-of-range size is false.
/// </summary>
public static class MerkleTree
{
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        return Root(leafHashes, leafHashes.Count);
    }

    /// <summary>The root of the first <paramref name="treeSize"/> leaves.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, leafHashes.Count);
        return treeSize == 0 ? MerkleHash.EmptyRoot() : Subtree(leafHashes, 0, treeSize);
    }

    /// <summary>PATH(m, D[n]) of RFC 9162 §2.1.3.1, ordered from the leaf up.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, long index, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, leafHashes.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);
        var proof = new List<byte[]>();
        Path(leafHashes, index, 0, treeSize, proof);
        return proof;
    }

    /// <summary>PROOF(m, D[n]) of RFC 9162 §2.1.4.1 for 0 &lt; <paramref name="oldSize"/> ≤ <paramref name="newSize"/>.</summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long oldSize, long newSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(newSize, leafHashes.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(oldSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        var proof = new List<byte[]>();
        SubProof(leafHashes, oldSize, 0, newSize, true, proof);
        return proof;
    }

    /// <summary>RFC 9162 §2.1.3.2.</summary>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (proof is null || index < 0 || treeSize <= 0 || index >= treeSize || leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size
            || proof.Count > 64 || proof.Any(p => p is not { Length: MerkleHash.Size }))
        {
            return false;
        }

        var fn = index;
        var sn = treeSize - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>RFC 9162 §2.1.4.2; equal sizes need an empty proof and equal roots.</summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (proof is null || oldSize < 1 || newSize < oldSize || oldRoot.Length != MerkleHash.Size || newRoot.Length != MerkleHash.Size
            || proof.Count > 128 || proof.Any(p => p is not { Length: MerkleHash.Size }))
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        }

        if (proof.Count == 0)
        {
            return false;
        }

        var path = BitOperations.IsPow2(oldSize) ? [oldRoot.ToArray(), .. proof] : proof.ToList();
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.AsSpan().SequenceEqual(oldRoot) && sr.AsSpan().SequenceEqual(newRoot);
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n &gt; 1).</summary>
    private static long Split(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    /// <summary>MTH of leaves [start, end), in one pass with a stack of complete subtrees.</summary>
    private static byte[] Subtree(IReadOnlyList<byte[]> leaves, long start, long end)
    {
        var accumulator = new MerkleAccumulator();
        for (var i = start; i < end; i++)
        {
            accumulator.Append(leaves[(int)i]);
        }

        return accumulator.Root();
    }

    private static void Path(IReadOnlyList<byte[]> leaves, long m, long start, long end, List<byte[]> proof)
    {
        var n = end - start;
        if (n == 1)
        {
            return;
        }

        var k = Split(n);
        if (m < k)
        {
            Path(leaves, m, start, start + k, proof);
            proof.Add(Subtree(leaves, start + k, end));
        }
        else
        {
            Path(leaves, m - k, start + k, end, proof);
            proof.Add(Subtree(leaves, start, start + k));
        }
    }

    private static void SubProof(IReadOnlyList<byte[]> leaves, long m, long start, long end, bool complete, List<byte[]> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!complete)
            {
                proof.Add(Subtree(leaves, start, end));
            }

            return;
        }

        var k = Split(n);
        if (m <= k)
        {
            SubProof(leaves, m, start, start + k, complete, proof);
            proof.Add(Subtree(leaves, start + k, end));
        }
        else
        {
            SubProof(leaves, m - k, start + k, end, false, proof);
            proof.Add(Subtree(leaves, start, start + k));
        }
    }
}
