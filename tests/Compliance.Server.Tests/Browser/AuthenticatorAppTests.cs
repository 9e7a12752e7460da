namespace Compliance.Server.Tests.Browser;

/// <summary>The tests' authenticator app computes what the RFC says, so that a code the server refuses is the server's doing.</summary>
public sealed class AuthenticatorAppTests
{
    // RFC 6238 appendix B, SHA-1 rows: the 20-byte ASCII seed "12345678901234567890", 8 digits.
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void CodeAt_Rfc6238Vectors_MatchTheRfc(long unixTime, string expected)
    {
        var seed = "12345678901234567890"u8.ToArray();

        var code = AuthenticatorApp.CodeAt(seed, AuthenticatorApp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixTime)), digits: 8);

        code.ShouldBe(expected);
    }

    [Fact]
    public void CodeAt_Base32KeyOfTheRfcSeed_GivesTheSixDigitsAnAppShows()
    {
        // base32("12345678901234567890") as a page would show it.
        AuthenticatorApp.CodeAt("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1).ShouldBe("287082");
    }
}
