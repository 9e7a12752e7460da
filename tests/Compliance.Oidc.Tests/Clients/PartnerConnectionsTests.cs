using System.Net;
using System.Net.Sockets;
using Compliance.Oidc.Clients;

namespace Compliance.Oidc.Tests.Clients;

/// <summary>
/// Every call to a partner's URL (JWKS, sector document, back-channel logout, webhook) connects through
/// <see cref="PartnerConnections"/>: a host that resolves to an internal address is refused before any connection,
/// whatever the URL said at registration.
/// </summary>
public sealed class PartnerConnectionsTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public PartnerConnectionsTests() => _listener.Start();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose() => _listener.Dispose();

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task AHostOnLoopback_WithoutTheSetting_IsRefusedBeforeConnecting(string host)
    {
        var accepting = _listener.AcceptTcpClientAsync();

        await Should.ThrowAsync<PartnerAddressRefusedException>(
            PartnerConnections.ConnectAsync(new DnsEndPoint(host, Port), allowLoopback: false, CancellationToken.None).AsTask());

        await Task.Delay(200);
        accepting.IsCompleted.ShouldBeFalse("no connection was opened");
    }

    [Fact]
    public async Task AHostOnLoopback_WithTheSetting_Connects()
    {
        var accepting = _listener.AcceptTcpClientAsync();

        await using var stream = await PartnerConnections.ConnectAsync(new DnsEndPoint("127.0.0.1", Port), allowLoopback: true, CancellationToken.None);

        using var accepted = await accepting.WaitAsync(TimeSpan.FromSeconds(10));
        accepted.Connected.ShouldBeTrue();
    }

    [Fact]
    public async Task TheFetchClientOfPartnerDocumentsAndLogouts_UsesNoProxyAndFollowsNoRedirect()
    {
        using var handler = PartnerConnections.Handler(allowLoopback: false);
        handler.UseProxy.ShouldBeFalse();
        handler.AllowAutoRedirect.ShouldBeFalse();
        using var client = new HttpClient(handler);

        var refused = await Should.ThrowAsync<HttpRequestException>(client.GetAsync($"http://localhost:{Port}/"));

        refused.InnerException.ShouldBeOfType<PartnerAddressRefusedException>();
    }
}
