using System.Net;
using System.Net.Sockets;

namespace Compliance.Oidc.Clients;

/// <summary>
/// The rules of a partner's webhook URL (<see cref="Client.WebhookUrl"/>), at registration and at delivery. The
/// service calls it like it fetches a partner's JWKS: https only, no credentials, no fragment, never following a
/// redirect; and never towards a private, loopback or link-local address, which would let a partner reach our own
/// network (SSRF). Plain http and loopback are accepted only with <c>Oidc:AllowLoopbackHttpFetch</c> (tests, a
/// developer's machine).
/// </summary>
public static class WebhookUrls
{
    /// <summary>The longest accepted URL (the column's length).</summary>
    public const int MaxLength = 2000;

    /// <summary>
    /// Whether <paramref name="value"/> may be registered: an absolute https URL without credentials or fragment, whose
    /// host is not a literal private or loopback address nor <c>localhost</c> (unless <paramref name="allowLoopback"/>,
    /// which also accepts http on loopback). A host name is checked again, once resolved, at every delivery.
    /// </summary>
    public static bool IsAcceptable(string value, bool allowLoopback)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxLength || value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || !IsCallable(uri, allowLoopback) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return false;
        }

        var loopbackName = ClientAdministration.IsLoopbackHost(uri);
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address))
        {
            return IsPublic(address) || (allowLoopback && IPAddress.IsLoopback(Normalised(address)));
        }

        return !loopbackName || allowLoopback;
    }

    /// <summary>
    /// Whether a registered URL may be called now, before its host is resolved: https (or http on loopback with
    /// <paramref name="allowLoopback"/>), without credentials. The resolved address is checked by <see cref="MayConnectTo"/>.
    /// </summary>
    public static bool IsCallable(Uri uri, bool allowLoopback)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsAbsoluteUri && string.IsNullOrEmpty(uri.UserInfo) && uri.Host.Length > 0
            && (uri.Scheme == Uri.UriSchemeHttps || (allowLoopback && uri.Scheme == Uri.UriSchemeHttp && ClientAdministration.IsLoopbackHost(uri)));
    }

    /// <summary>Whether a delivery may open a connection to <paramref name="address"/> (a resolved address of the webhook's host).</summary>
    public static bool MayConnectTo(IPAddress address, bool allowLoopback)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IsPublic(address) || (allowLoopback && IPAddress.IsLoopback(Normalised(address)));
    }

    /// <summary>
    /// A globally routable unicast address: not loopback, private (RFC 1918, ULA), shared (RFC 6598), link-local,
    /// unspecified, documentation, benchmarking, multicast or broadcast; nor an IPv6 form that carries an IPv4 address
    /// (mapped, compatible, NAT64, 6to4, Teredo), whose inside the check could not see.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Normalised(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 88 && b[2] == 99)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC // fc00::/7, unique local
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) // 2001:db8::/32, documentation
                || (b[0] == 0x3F && b[1] == 0xFF && (b[2] & 0xF0) == 0) // 3fff::/20, documentation
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x02 && b[4] == 0 && b[5] == 0) // 2001:2::/48, benchmarking
                || (b[0] == 0x20 && b[1] == 0x02) // 2002::/16, 6to4: carries any IPv4 address, private ones too
                || (b[0] == 0x01 && b[1] == 0x00 && b[2..8].All(x => x == 0)) // 100::/64, discard-only
                || address.IsIPv4MappedToIPv6 || address.IsIPv6Teredo || b[0] == 0x00); // ::/8 (IPv4-compatible, NAT64 well-known aside)
        }

        return false;
    }

    private static IPAddress Normalised(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
