using System.Text;
using Compliance.Oidc.Accounts.Factors;

namespace Compliance.Oidc.Tests.Accounts;

public sealed class TotpTests
{
    // RFC 6238 Appendix B, SHA-1 rows: the ASCII key "12345678901234567890", 8 digits.
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void Compute_MatchesTheRfc6238TestVectors(long unixSeconds, string expected)
    {
        var secret = Encoding.ASCII.GetBytes("12345678901234567890");

        Totp.Compute(secret, Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)), digits: 8).ShouldBe(expected);
    }

    [Fact]
    public void MatchingStep_AcceptsOneStepOfDriftEitherSide_AndNoMore()
    {
        var secret = Encoding.ASCII.GetBytes("12345678901234567890");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_111_111_111);
        var step = Totp.StepAt(now);

        Totp.MatchingStep(secret, Totp.Compute(secret, step), now).ShouldBe(step);
        Totp.MatchingStep(secret, Totp.Compute(secret, step - 1), now).ShouldBe(step - 1);
        Totp.MatchingStep(secret, Totp.Compute(secret, step + 1), now).ShouldBe(step + 1);
        Totp.MatchingStep(secret, Totp.Compute(secret, step - 2), now).ShouldBeNull();
        Totp.MatchingStep(secret, Totp.Compute(secret, step + 2), now).ShouldBeNull();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12a456")]
    [InlineData("１２３４５６")] // full-width digits
    [InlineData("123 45")]
    public void MatchingStep_MalformedCode_MatchesNothing(string? code) =>
        Totp.MatchingStep(new byte[20], code, DateTimeOffset.UnixEpoch.AddYears(56)).ShouldBeNull();

    // RFC 4648 §10 test vectors, without padding.
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "MY")]
    [InlineData("fo", "MZXQ")]
    [InlineData("foo", "MZXW6")]
    [InlineData("foob", "MZXW6YQ")]
    [InlineData("fooba", "MZXW6YTB")]
    [InlineData("foobar", "MZXW6YTBOI")]
    public void Base32_MatchesRfc4648(string data, string expected) =>
        Base32.Encode(Encoding.ASCII.GetBytes(data)).ShouldBe(expected);
}
