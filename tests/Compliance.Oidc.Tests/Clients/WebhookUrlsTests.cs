using System.Net;
using Compliance.Oidc.Clients;

namespace Compliance.Oidc.Tests.Clients;

/// <summary>
/// Which addresses a webhook delivery may connect to: only globally routable ones, whatever disguise an internal
/// address takes (IPv4-mapped IPv6, shared address space, link-local metadata endpoints, unique local IPv6).
/// </summary>
public sealed class WebhookUrlsTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("2001:db8::1")]
    [InlineData("2002:0a00:0001::1")] // 6to4 carrying 10.0.0.1
    [InlineData("2002:7f00:0001::1")] // 6to4 carrying 127.0.0.1
    [InlineData("64:ff9b::a00:1")] // NAT64 carrying 10.0.0.1
    [InlineData("192.88.99.1")] // the 6to4 relays' anycast
    [InlineData("2001:2::1")] // benchmarking
    [InlineData("3fff::1")] // documentation (RFC 9637)
    [InlineData("100::1")] // discard-only
    [InlineData("fec0::1")] // site-local, deprecated
    public void MayConnectTo_AnInternalAddress_IsRefused(string address) =>
        WebhookUrls.MayConnectTo(IPAddress.Parse(address), allowLoopback: false).ShouldBeFalse();

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2a00:1450:4007:80e::200e")]
    [InlineData("::ffff:93.184.215.14")]
    public void MayConnectTo_APublicAddress_IsAllowed(string address) =>
        WebhookUrls.MayConnectTo(IPAddress.Parse(address), allowLoopback: false).ShouldBeTrue();

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("169.254.169.254", false)]
    public void MayConnectTo_WithTheLoopbackSetting_AllowsLoopbackOnly(string address, bool allowed) =>
        WebhookUrls.MayConnectTo(IPAddress.Parse(address), allowLoopback: true).ShouldBe(allowed);

    [Theory]
    [InlineData("https://partner.example/hook", false, true)]
    [InlineData("https://93.184.215.14/hook", false, true)]
    [InlineData("https://[fd00::1]/hook", false, false)]
    [InlineData("https://LOCALHOST/hook", false, false)]
    [InlineData("https://api.localhost/hook", false, false)]
    [InlineData("http://127.0.0.1:9000/hook", true, true)]
    [InlineData("http://127.0.0.1:9000/hook", false, false)]
    [InlineData("http://partner.example/hook", true, false)]
    [InlineData("https://partner.example/hook\r\nX-Injected: 1", false, false)]
    [InlineData("https://partner.example/ho ok", false, false)]
    public void IsAcceptable_FollowsTheJwksUriRules_AndRefusesLiteralInternalHosts(string url, bool allowLoopback, bool acceptable) =>
        WebhookUrls.IsAcceptable(url, allowLoopback).ShouldBe(acceptable);
}
