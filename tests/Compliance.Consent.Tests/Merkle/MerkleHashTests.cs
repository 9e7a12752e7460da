using System.Security.Cryptography;
using Compliance.Consent.Merkle;

namespace Compliance.Consent.Tests.Merkle;

public sealed class MerkleHashTests
{
    [Fact]
    public void Leaf_IsSha256OfZeroByteThenData_SoALeafCannotPassForANode()
    {
        byte[] data = [1, 2, 3];

        MerkleHash.Leaf(data).ShouldBe(SHA256.HashData([0x00, 1, 2, 3]));
        MerkleHash.Node(new byte[32], new byte[32]).ShouldBe(SHA256.HashData([0x01, .. new byte[64]]));
        MerkleHash.Leaf(new byte[64]).ShouldNotBe(MerkleHash.Node(new byte[32], new byte[32]));
    }
}
