using System.Net;

namespace Compliance.Oidc.Tests;

public class OidcRateLimitsTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1234:5678:9abc:def0:1234:5678", "2001:db8:1234:5678::/64")]
    [InlineData("2001:db8:1234:5678::1", "2001:db8:1234:5678::/64")]
    [InlineData("::1", "::/64")]
    public void PartitionKey_ClientAddress_IsTheAddressOrItsIpv6Slash64(string address, string expected) =>
        OidcRateLimits.PartitionKey(IPAddress.Parse(address)).ShouldBe(expected);

    [Fact]
    public void PartitionKey_TwoAddressesOfOneIpv6Subscriber_ShareOneBudget() =>
        OidcRateLimits.PartitionKey(IPAddress.Parse("2001:db8:aa:bb::1"))
            .ShouldBe(OidcRateLimits.PartitionKey(IPAddress.Parse("2001:db8:aa:bb:ffff:ffff:ffff:fffe")));

    [Fact]
    public void PartitionKey_NoAddress_IsOnePartition() =>
        OidcRateLimits.PartitionKey(null).ShouldBe("unknown");
}
