using System.Security.Cryptography;
using Compliance.Consent.Merkle;

namespace Compliance.Consent.Tests.Merkle;

public sealed class LeafHeaderTests
{
    private static readonly Guid Id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");

    [Fact]
    public void Encode_Header_IsTheDocumented65Bytes()
    {
        var commitment = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var at = DateTimeOffset.UnixEpoch.AddTicks(1_700_000_000_123_456 * 10);

        var encoded = new LeafHeader(0x0102030405060708, Id, at, commitment).Encode();

        Convert.ToHexStringLower(encoded).ShouldBe(
            "01" + "0102030405060708" + "00112233445566778899aabbccddeeff" + "00060a2418202240" + Convert.ToHexStringLower(commitment));
        encoded.Length.ShouldBe(65);
    }

    [Fact]
    public void LeafHash_Header_IsTheRfcLeafHashOfTheEncoding()
    {
        var header = new LeafHeader(7, Id, DateTimeOffset.UnixEpoch, new byte[32]);

        header.LeafHash().ShouldBe(SHA256.HashData([0x00, .. header.Encode()]));
        Convert.ToHexStringLower(header.LeafHash()).ShouldBe(LeafHashVector);
    }

    private const string LeafHashVector = "fd04c6c8ac1717cf2ac5b5ca30af57e5e9a170e5993183d1c52eb49b2f72980f";

    [Fact]
    public void Encode_MicrosecondTimes_KeepEveryMicrosecond()
    {
        var a = DateTimeOffset.UnixEpoch.AddTicks(17_000_000_000_000_010);
        var b = a.AddTicks(10);

        new LeafHeader(1, Id, a, new byte[32]).LeafHash().ShouldNotBe(new LeafHeader(1, Id, b, new byte[32]).LeafHash());
        new LeafHeader(1, Id, a, new byte[32]).LeafHash().ShouldBe(new LeafHeader(1, Id, a.ToOffset(TimeSpan.FromHours(2)), new byte[32]).LeafHash());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Encode_CommitmentNot32Bytes_IsRefused(int length)
    {
        var header = new LeafHeader(1, Id, DateTimeOffset.UnixEpoch, new byte[length]);

        Should.Throw<ArgumentException>(() => header.Encode());
    }

    [Fact]
    public void Commit_SaltAndPayload_IsSha256OfTheirConcatenation()
    {
        byte[] salt = [.. Enumerable.Repeat((byte)9, 32)];
        byte[] payload = [1, 2, 3];

        LeafHeader.Commit(salt, payload).ShouldBe(SHA256.HashData([.. salt, .. payload]));
    }
}
