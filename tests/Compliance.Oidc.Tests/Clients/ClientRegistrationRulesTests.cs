using Compliance.Oidc.Clients;

namespace Compliance.Oidc.Tests.Clients;

public class ClientRegistrationRulesTests
{
    [Theory]
    [InlineData("https://partner.example/backchannel-logout", false, true)]
    [InlineData("https://partner.example:8443/logout?tenant=a", false, true)]
    [InlineData("http://127.0.0.1:5081/logout", true, true)]
    [InlineData("http://[::1]:5081/logout", true, true)]
    [InlineData("http://127.0.0.1:5081/logout", false, false)]
    [InlineData("http://partner.example/logout", true, false)]
    [InlineData("https://partner.example/logout#fragment", false, false)]
    [InlineData("https://user:secret@partner.example/logout", false, false)]
    [InlineData("/logout", false, false)]
    [InlineData("ftp://partner.example/logout", false, false)]
    [InlineData("https://10.0.0.5/logout", false, false)]
    [InlineData("https://169.254.169.254/latest/meta-data", false, false)]
    [InlineData("https://[fd00::1]/logout", false, false)]
    [InlineData("https://[::ffff:192.168.1.1]/logout", false, false)]
    [InlineData("https://localhost/logout", false, false)]
    [InlineData("https://93.184.215.14/logout", false, true)]
    public void BackchannelLogoutUri_Rules_AcceptOnlyHttpsOrAllowedLoopbackHttp(string uri, bool allowLoopbackHttp, bool accepted) =>
        ClientAdministration.IsAcceptableBackchannelLogoutUri(uri, allowLoopbackHttp).ShouldBe(accepted);

    [Fact]
    public void BackchannelLogoutUri_LongerThanTheColumn_IsRefused() =>
        ClientAdministration.IsAcceptableBackchannelLogoutUri("https://partner.example/" + new string('a', 2000), false).ShouldBeFalse();

    [Theory]
    [InlineData("http://127.0.0.1:5081/cb", true)]
    [InlineData("http://[::1]/cb", true)]
    [InlineData("http://localhost:3000/cb", true)]
    [InlineData("http://app.localhost/cb", true)]
    [InlineData("https://partner.example/cb", false)]
    [InlineData("https://localhost.partner.example/cb", false)]
    public void LoopbackHost_SharedByEveryLocalApplication_IsRecognised(string uri, bool loopback) =>
        ClientAdministration.IsLoopbackHost(new Uri(uri)).ShouldBe(loopback);

    [Fact]
    public void ClientSector_IsTheLowerCasedClientIdWithAPrefixNoHostCanHave() =>
        ClientAdministration.ClientSector("Clinic.A").ShouldBe("client:clinic.a");
}
