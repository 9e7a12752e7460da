using System.Net;
using System.Net.Sockets;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The HTTP client of webhook deliveries. Its connections are opened by <see cref="ConnectAsync"/>, which resolves the
/// host itself and refuses a private, loopback or link-local address (<see cref="WebhookUrls.MayConnectTo"/>): DNS may
/// change after registration, and only the address actually connected to counts. No redirect is followed, no proxy is
/// used (it would connect for us, unchecked), no cookie is kept.
/// </summary>
internal static class WebhookHttp
{
    public const string ClientName = "compliance-webhook";

    public static IServiceCollection AddWebhookHttp(this IServiceCollection services)
    {
        services.AddHttpClient(ClientName, (provider, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<OutboxOptions>>().Value.TimeoutSeconds);
                client.MaxResponseContentBufferSize = 64 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var allowLoopback = provider.GetRequiredService<IOptions<OidcOptions>>().Value.AllowLoopbackHttpFetch;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    UseProxy = false,
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                    ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowLoopback, cancellationToken),
                };
            });
        return services;
    }

    /// <summary>Connects to the first address of <paramref name="endpoint"/> that accepts, after checking every resolved address.</summary>
    internal static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowLoopback, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);

        // All or nothing: a name that resolves to one public and one internal address is a rebinding trap.
        if (addresses.Length == 0 || !addresses.All(a => WebhookUrls.MayConnectTo(a, allowLoopback)))
        {
            throw new WebhookAddressRefusedException();
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

/// <summary>The webhook's host resolved to an address a delivery may not connect to.</summary>
internal sealed class WebhookAddressRefusedException : IOException
{
    public WebhookAddressRefusedException()
        : base("The webhook's host resolves to a private, loopback or link-local address.")
    {
    }

    public WebhookAddressRefusedException(string message)
        : base(message)
    {
    }

    public WebhookAddressRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
