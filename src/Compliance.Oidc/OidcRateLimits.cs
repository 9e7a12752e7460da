using System.Net;
using System.Net.Sockets;

namespace Compliance.Oidc;

/// <summary>The rate-limiting policies of the provider's endpoints, partitioned by client address.</summary>
public static class OidcRateLimits
{
    public const string Interactive = "oidc-interactive";
    public const string Token = "oidc-token";

    /// <summary>
    /// The partition of a client address: an IPv4 address as is, an IPv6 address by its /64 prefix. One IPv6 subscriber
    /// usually holds a whole /64, and could otherwise take a fresh address, and a fresh budget, for every request.
    /// </summary>
    public static string PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
