using Compliance.Oidc.Accounts;

namespace Compliance.Oidc.Tests.Accounts;

public class PasswordPolicyTests
{
    [Theory]
    [InlineData("motdepasse123")]
    [InlineData("MotDePasse2024!")]
    [InlineData("azertyuiop12")]
    [InlineData("qwertyuiop123")]
    [InlineData("123456789012")]
    [InlineData("098765432109")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("abababababab")]
    [InlineData("P@ssw0rd2024!")]
    [InlineData("iloveyou2024!!")]
    [InlineData("soleilsoleil")]
    [InlineData("Soleil2024!!")]
    [InlineData("jetaime123456")]
    [InlineData("Marseille-2013")]
    [InlineData("1qaz2wsx3edc")]
    [InlineData("chocolat-5739")]
    [InlineData("abcdefghijkl")]
    [InlineData("Princesse Licorne")]
    public void Check_CommonOrBreachedStylePassword_IsCommon(string password) =>
        PasswordPolicy.Check(password, "someone").ShouldBe(PasswordVerdict.Common);

    [Theory]
    [InlineData("correct horse battery staple 42")]
    [InlineData("a long enough password")]
    [InlineData("une phrase de passe assez longue")]
    [InlineData("lavande-orage-2026")]
    [InlineData("Tr0ub4dor&3-kiwi")]
    [InlineData("wrong password attempt")]
    [InlineData("chocolat-93571846")]
    public void Check_PassphraseOrOwnWords_IsAccepted(string password) =>
        PasswordPolicy.Check(password, "someone").ShouldBe(PasswordVerdict.Accepted);

    [Theory]
    [InlineData("lune-42", "my LUNE-42 is bright tonight")]
    [InlineData("lune.42", "lune42 under the violet sky")]
    [InlineData("demo", "demo-password-2026")]
    public void Check_PasswordContainingThePseudonym_IsRefused(string pseudonym, string password) =>
        PasswordPolicy.Check(password, pseudonym).ShouldBe(PasswordVerdict.ContainsPseudonym);

    [Theory]
    [InlineData(null)]
    [InlineData("short words")]
    public void Check_TooShort_IsWrongLength(string? password) =>
        PasswordPolicy.Check(password, "someone").ShouldBe(PasswordVerdict.WrongLength);

    [Fact]
    public void Check_TooLong_IsWrongLength() =>
        PasswordPolicy.Check(new string('x', 240) + " correct horse battery staple", "someone").ShouldBe(PasswordVerdict.WrongLength);

    [Fact]
    public void DemoSeedPassword_FollowsThePolicy() =>
        PasswordPolicy.Check(DemoSeed.Password, DemoSeed.Pseudonym).ShouldBe(PasswordVerdict.Accepted);
}
