using System.Net;
using System.Net.Sockets;

namespace Compliance.Oidc.Clients;

/// <summary>
/// The connections of every call this service makes to an address a partner gave it: its JWKS, its sector identifier
/// document, its back-channel logout endpoint, its webhook. The host is resolved here, and every resolved address must
/// be one a partner may make us call (<see cref="WebhookUrls.MayConnectTo"/>): DNS may change after registration,
/// and only the address actually connected to counts. No redirect is followed, no proxy is used (it would connect for
/// us, unchecked), no cookie is kept.
/// </summary>
public static class PartnerConnections
{
    /// <summary>A handler for a partner-facing <see cref="HttpClient"/>.</summary>
    public static SocketsHttpHandler Handler(bool allowLoopback) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowLoopback, cancellationToken),
    };

    /// <summary>Connects to the first address of <paramref name="endpoint"/> that accepts, after checking every resolved address.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowLoopback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);

        // All or nothing: a name that resolves to one public and one internal address is a rebinding trap.
        if (addresses.Length == 0 || !addresses.All(a => WebhookUrls.MayConnectTo(a, allowLoopback)))
        {
            throw new PartnerAddressRefusedException();
        }

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}

/// <summary>A partner's host resolved to an address this service may not connect to.</summary>
public sealed class PartnerAddressRefusedException : IOException
{
    public PartnerAddressRefusedException()
        : base("The partner's host resolves to a private, loopback or link-local address.")
    {
    }

    public PartnerAddressRefusedException(string message)
        : base(message)
    {
    }

    public PartnerAddressRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
