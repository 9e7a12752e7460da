using Compliance.Oidc.Protocol;
using Microsoft.Extensions.Primitives;

namespace Compliance.Oidc.Tests.Protocol;

public class ProtocolParametersTests
{
    [Fact]
    public void FromPairs_RepeatedParameter_IsInvalidRequest()
    {
        var error = Should.Throw<OAuthException>(() => Read(("client_id", new StringValues(["a", "b"]))));

        error.Error.ShouldBe(OAuthErrors.InvalidRequest);
        error.Description.ShouldContain("client_id");
    }

    [Theory]
    [InlineData("caf\uFFFD")]
    [InlineData("a\u0000b")]
    [InlineData("line\nbreak")]
    [InlineData("\uD800")]
    public void FromPairs_MalformedText_IsInvalidRequest(string value)
    {
        var error = Should.Throw<OAuthException>(() => Read(("state", new StringValues(value))));

        error.Error.ShouldBe(OAuthErrors.InvalidRequest);
    }

    [Fact]
    public void FromPairs_OversizedValue_IsInvalidRequestWithoutEchoingIt()
    {
        var huge = new string('x', ProtocolParameters.MaxValueLength + 1);

        var error = Should.Throw<OAuthException>(() => Read(("state", new StringValues(huge))));

        error.Description.ShouldNotContain(huge[..100]);
    }

    [Fact]
    public void FromPairs_TooManyParameters_IsInvalidRequest()
    {
        var pairs = Enumerable.Range(0, ProtocolParameters.MaxParameters + 1).Select(i => ($"p{i}", new StringValues("v"))).ToArray();

        Should.Throw<OAuthException>(() => Read(pairs)).Error.ShouldBe(OAuthErrors.InvalidRequest);
    }

    [Fact]
    public void FromPairs_EmptyValue_CountsAsOmitted()
    {
        var parameters = Read(("state", new StringValues("")), ("scope", new StringValues("openid  offline_access")));

        parameters["state"].ShouldBeNull();
        parameters.List("scope").ShouldBe(["openid", "offline_access"]);
    }

    [Fact]
    public void FromPairs_UnicodeText_IsKept()
    {
        Read(("state", new StringValues("état-✓-🙂")))["state"].ShouldBe("état-✓-🙂");
    }

    private static ProtocolParameters Read(params (string Name, StringValues Value)[] pairs) =>
        ProtocolParameters.FromPairs(pairs.Select(p => new KeyValuePair<string, StringValues>(p.Name, p.Value)));
}
