using System.Numerics;
using System.Security.Cryptography;

namespace Compliance.Consent.Merkle;

/// <summary>
/// RFC 9162 §2.1 over a list of leaf hashes held in memory: tree heads, inclusion and consistency proofs, and their
/// verification. Each proof hashes disjoint subtrees only, so producing one costs O(n) hashes at worst.
/// </summary>
public static class MerkleTree
{
    /// <summary>MTH over all the leaf hashes; the empty list gives <see cref="MerkleHash.EmptyRoot"/>.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        return Range(leafHashes, 0, leafHashes.Count);
    }

    /// <summary>MTH over the first <paramref name="treeSize"/> leaf hashes.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, leafHashes.Count);
        return Range(leafHashes, 0, treeSize);
    }

    /// <summary>PATH(m, D[n]) of RFC 9162 §2.1.3.1, from the leaf's sibling up to the root's child.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, long index, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, leafHashes.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);

        // Walks down from the root; each step records the subtree that the leaf is not in.
        var path = new List<byte[]>();
        long start = 0, size = treeSize, m = index;
        while (size > 1)
        {
            var k = SplitPoint(size);
            if (m < k)
            {
                path.Add(Range(leafHashes, start + k, size - k));
                size = k;
            }
            else
            {
                path.Add(Range(leafHashes, start, k));
                start += k;
                size -= k;
                m -= k;
            }
        }

        path.Reverse();
        return path;
    }

    /// <summary>PROOF(m, D[n]) of RFC 9162 §2.1.4.1, for 0 &lt; oldSize &lt;= newSize.</summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long oldSize, long newSize)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(newSize, leafHashes.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);

        // SUBPROOF(m, D[start:start+size], b), unrolled from the top.
        var proof = new List<byte[]>();
        long start = 0, size = newSize, m = oldSize;
        var complete = true;
        while (m != size)
        {
            var k = SplitPoint(size);
            if (m <= k)
            {
                proof.Add(Range(leafHashes, start + k, size - k));
                size = k;
            }
            else
            {
                proof.Add(Range(leafHashes, start, k));
                start += k;
                size -= k;
                m -= k;
                complete = false;
            }
        }

        if (!complete)
        {
            proof.Add(Range(leafHashes, start, size));
        }

        proof.Reverse();
        return proof;
    }

    /// <summary>RFC 9162 §2.1.3.2. False, never an exception, for any malformed proof, hash or size.</summary>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (proof is null || index < 0 || index >= treeSize || leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size)
        {
            return false;
        }

        long fn = index, sn = treeSize - 1;
        Span<byte> r = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        foreach (var p in proof)
        {
            if (sn == 0 || p is null || p.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }

    /// <summary>RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots. False, never an exception, when malformed.</summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (proof is null || oldSize <= 0 || oldSize > newSize || oldRoot.Length != MerkleHash.Size || newRoot.Length != MerkleHash.Size)
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(oldRoot, newRoot);
        }

        // Step 1: when the old tree is a perfect subtree of the new one, its root is the proof's implicit first node.
        var first = 0;
        var seed = oldRoot;
        if (!BitOperations.IsPow2(oldSize))
        {
            if (proof.Count == 0 || proof[0] is null || proof[0].Length != MerkleHash.Size)
            {
                return false;
            }

            seed = proof[0];
            first = 1;
        }

        long fn = oldSize - 1, sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        seed.CopyTo(fr);
        seed.CopyTo(sr);
        for (var i = first; i < proof.Count; i++)
        {
            var c = proof[i];
            if (sn == 0 || c is null || c.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(c, fr, fr);
                MerkleHash.Node(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(fr, oldRoot) && CryptographicOperations.FixedTimeEquals(sr, newRoot);
    }

    // The largest power of two smaller than n (n > 1): RFC 9162's k.
    private static long SplitPoint(long n) => (long)BitOperations.RoundUpToPowerOf2((ulong)n) >> 1;

    // MTH(D[start:start+count]) in O(count) hashes.
    private static byte[] Range(IReadOnlyList<byte[]> leafHashes, long start, long count)
    {
        var accumulator = new MerkleAccumulator();
        for (var i = start; i < start + count; i++)
        {
            accumulator.Append(leafHashes[checked((int)i)]);
        }

        return accumulator.Root();
    }
}
