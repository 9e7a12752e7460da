using System.Security.Cryptography;
using Compliance.Consent.Merkle;

namespace Compliance.Consent.Tests.Merkle;

public sealed class MerkleTreeTests
{
    private static List<byte[]> Leaves(int n, byte tag = 0) =>
        [.. Enumerable.Range(0, n).Select(i => MerkleHash.Leaf([tag, (byte)i, (byte)(i >> 8)]))];

    // RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, written literally.
    private static int K(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static byte[] Mth(List<byte[]> d) => d.Count switch
    {
        0 => SHA256.HashData([]),
        1 => d[0],
        _ => MerkleHash.Node(Mth(d[..K(d.Count)]), Mth(d[K(d.Count)..])),
    };

    private static List<byte[]> Path(int m, List<byte[]> d)
    {
        if (d.Count == 1)
        {
            return [];
        }

        var k = K(d.Count);
        return m < k ? [.. Path(m, d[..k]), Mth(d[k..])] : [.. Path(m - k, d[k..]), Mth(d[..k])];
    }

    private static List<byte[]> Subproof(int m, List<byte[]> d, bool b)
    {
        if (m == d.Count)
        {
            return b ? [] : [Mth(d)];
        }

        var k = K(d.Count);
        return m <= k ? [.. Subproof(m, d[..k], b), Mth(d[k..])] : [.. Subproof(m - k, d[k..], false), Mth(d[..k])];
    }

    [Fact]
    public void RootAndProofs_EverySizeUpTo70_MatchTheRfcDefinitionsAndVerify()
    {
        var all = Leaves(70);
        for (var n = 1; n <= 70; n++)
        {
            var d = all[..n];
            var root = Mth(d);
            MerkleTree.Root(all, n).ShouldBe(root);
            MerkleTree.Root(d).ShouldBe(root);
            var accumulator = new MerkleAccumulator();
            d.ForEach(h => accumulator.Append(h));
            accumulator.Root().ShouldBe(root);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.InclusionProof(all, m, n);
                proof.ShouldBe(Path(m, d));
                MerkleTree.VerifyInclusion(m, n, d[m], proof, root).ShouldBeTrue();
            }

            for (var m = 1; m <= n; m++)
            {
                var proof = MerkleTree.ConsistencyProof(all, m, n);
                proof.ShouldBe(Subproof(m, d, true));
                MerkleTree.VerifyConsistency(m, n, Mth(all[..m]), root, proof).ShouldBeTrue();
            }
        }
    }

    [Fact]
    public void Root_EmptyList_IsTheEmptyRoot()
    {
        MerkleTree.Root([]).ShouldBe(MerkleHash.EmptyRoot());
        new MerkleAccumulator().Root().ShouldBe(MerkleHash.EmptyRoot());
    }

    [Fact]
    public void Accumulator_Clone_IsIndependent()
    {
        var leaves = Leaves(10);
        var accumulator = new MerkleAccumulator();
        leaves[..5].ForEach(h => accumulator.Append(h));

        var clone = accumulator.Clone();
        leaves[5..].ForEach(h => clone.Append(h));

        accumulator.Size.ShouldBe(5);
        accumulator.Root().ShouldBe(MerkleTree.Root(leaves, 5));
        clone.Root().ShouldBe(MerkleTree.Root(leaves));
    }

    [Fact]
    public void Proofs_FromAnotherTree_Fail()
    {
        var ours = Leaves(21);
        var theirs = Leaves(21, tag: 1);
        var theirRoot = MerkleTree.Root(theirs);

        for (var m = 0; m < 21; m++)
        {
            MerkleTree.VerifyInclusion(m, 21, ours[m], MerkleTree.InclusionProof(ours, m, 21), theirRoot).ShouldBeFalse();
        }

        for (var m = 1; m < 21; m++)
        {
            MerkleTree.VerifyConsistency(m, 21, MerkleTree.Root(ours, m), theirRoot, MerkleTree.ConsistencyProof(ours, m, 21)).ShouldBeFalse();
        }
    }

    public static TheoryData<string> Damages => ["truncated", "extended", "reordered", "bitflip", "null element", "short element"];

    private static List<byte[]> Damage(IReadOnlyList<byte[]> proof, string how, int position)
    {
        var damaged = proof.Select(p => (byte[])p.Clone()).ToList();
        switch (how)
        {
            case "truncated": damaged.RemoveAt(damaged.Count - 1); break;
            case "extended": damaged.Add(new byte[32]); break;
            case "reordered": (damaged[0], damaged[^1]) = (damaged[^1], damaged[0]); break;
            case "bitflip": damaged[position % damaged.Count][position % 32] ^= 0x01; break;
            case "null element": damaged[position % damaged.Count] = null!; break;
            default: damaged[position % damaged.Count] = new byte[31]; break;
        }

        return damaged;
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void VerifyInclusion_DamagedProof_IsFalse(string how)
    {
        var leaves = Leaves(45);
        var root = MerkleTree.Root(leaves);
        for (var m = 0; m < 45; m++)
        {
            var proof = MerkleTree.InclusionProof(leaves, m, 45);
            if (how == "reordered" && proof[0].SequenceEqual(proof[^1]))
            {
                continue;
            }

            MerkleTree.VerifyInclusion(m, 45, leaves[m], Damage(proof, how, m), root).ShouldBeFalse();
        }
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void VerifyConsistency_DamagedProof_IsFalse(string how)
    {
        var leaves = Leaves(45);
        var root = MerkleTree.Root(leaves);
        for (var m = 1; m < 45; m++)
        {
            var proof = MerkleTree.ConsistencyProof(leaves, m, 45);
            if (how == "reordered" && proof.Count < 2)
            {
                continue;
            }

            MerkleTree.VerifyConsistency(m, 45, MerkleTree.Root(leaves, m), root, Damage(proof, how, m)).ShouldBeFalse();
        }
    }

    [Fact]
    public void Verify_SizesOrHashesOutOfRange_AreFalse()
    {
        var leaves = Leaves(8);
        var root = MerkleTree.Root(leaves);
        var proof = MerkleTree.InclusionProof(leaves, 3, 8);
        var consistency = MerkleTree.ConsistencyProof(leaves, 3, 8);
        var oldRoot = MerkleTree.Root(leaves, 3);

        MerkleTree.VerifyInclusion(-1, 8, leaves[3], proof, root).ShouldBeFalse();
        MerkleTree.VerifyInclusion(8, 8, leaves[3], proof, root).ShouldBeFalse();
        MerkleTree.VerifyInclusion(3, 9, leaves[3], proof, root).ShouldBeFalse();
        MerkleTree.VerifyInclusion(3, long.MaxValue, leaves[3], proof, root).ShouldBeFalse();
        MerkleTree.VerifyInclusion(3, 8, leaves[3].AsSpan(0, 31), proof, root).ShouldBeFalse();
        MerkleTree.VerifyInclusion(3, 8, leaves[3], null!, root).ShouldBeFalse();
        MerkleTree.VerifyConsistency(0, 8, oldRoot, root, consistency).ShouldBeFalse();
        MerkleTree.VerifyConsistency(9, 8, oldRoot, root, consistency).ShouldBeFalse();
        MerkleTree.VerifyConsistency(3, 9, oldRoot, root, consistency).ShouldBeFalse();
        MerkleTree.VerifyConsistency(3, long.MaxValue, oldRoot, root, consistency).ShouldBeFalse();
        MerkleTree.VerifyConsistency(8, 8, root, root, consistency).ShouldBeFalse();
        MerkleTree.VerifyConsistency(8, 8, root, root, []).ShouldBeTrue();
        MerkleTree.VerifyConsistency(3, 8, oldRoot, root, []).ShouldBeFalse();
    }

    [Fact]
    public void Proofs_SizesOutOfRange_Throw()
    {
        var leaves = Leaves(8);

        Should.Throw<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(leaves, 8, 8));
        Should.Throw<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(leaves, 0, 9));
        Should.Throw<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(leaves, 0, 8));
        Should.Throw<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(leaves, 5, 4));
        Should.Throw<ArgumentOutOfRangeException>(() => MerkleTree.Root(leaves, 9));
    }

    [Fact]
    public void FixedVectors_SevenLeaves_AreUnchanged()
    {
        // Computed once, with an independent Python script of RFC 9162's definitions; a change in leaf, node or tree hashing shows here.
        List<byte[]> leaves = [.. Enumerable.Range(0, 7).Select(i => MerkleHash.Leaf([(byte)i]))];

        Convert.ToHexStringLower(MerkleTree.Root(leaves)).ShouldBe(RootOf7);
        Convert.ToHexStringLower(MerkleTree.InclusionProof(leaves, 5, 7)[0]).ShouldBe(PathOf5At7First);
        Convert.ToHexStringLower(MerkleTree.ConsistencyProof(leaves, 3, 7)[0]).ShouldBe(ConsistencyOf3To7First);
    }

    private const string RootOf7 = "3560191803028444b232018ac047fdb561c09c23a7a6876c85e08b5e4d48e9f3";
    private const string PathOf5At7First = "4f35212d12f9ad2036492c95f1fe79baf4ec7bd9bef3dffa7579f2293ff546a4";
    private const string ConsistencyOf3To7First = "fcf0a6c700dd13e274b6fba8deea8dd9b26e4eedde3495717cac8408c9c5177f";
}
