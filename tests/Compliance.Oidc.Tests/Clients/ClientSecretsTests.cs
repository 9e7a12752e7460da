using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;

namespace Compliance.Oidc.Tests.Clients;

public class ClientSecretsTests
{
    [Fact]
    public void Generate_Secrets_Have256BitsAndDiffer()
    {
        var first = ClientSecrets.Generate();

        first.Length.ShouldBe(43);
        ClientSecrets.Generate().ShouldNotBe(first);
    }

    [Fact]
    public void Matches_OnlyTheRightSecret()
    {
        var secret = ClientSecrets.Generate();
        var hash = ClientSecrets.Hash(secret);

        ClientSecrets.Matches(hash, secret).ShouldBeTrue();
        ClientSecrets.Matches(hash, secret + "x").ShouldBeFalse();
        ClientSecrets.Matches(null, secret).ShouldBeFalse();
        hash.ShouldNotContain(secret);
    }

    [Fact]
    public void Matches_PreviousSecret_OnlyBeforeItsOverlapEnds()
    {
        var previous = ClientSecrets.Generate();
        var current = ClientSecrets.Generate();
        var now = DateTimeOffset.UtcNow;
        var client = new Client
        {
            ClientId = "c", DisplayName = "C", Type = ClientTypes.Confidential, TokenEndpointAuthMethod = ClientAuthMethods.SecretBasic,
            RedirectUris = "", AllowedScopes = "openid", AllowedGrantTypes = "client_credentials", Sector = "client:c",
            SecretHash = ClientSecrets.Hash(current), PreviousSecretHash = ClientSecrets.Hash(previous), PreviousSecretExpiresAt = now.AddMinutes(5),
        };

        ClientSecrets.Matches(client, current, now).ShouldBeTrue();
        ClientSecrets.Matches(client, previous, now).ShouldBeTrue();
        ClientSecrets.Matches(client, previous, now.AddMinutes(5)).ShouldBeFalse();
        ClientSecrets.Matches(client, current, now.AddMinutes(5)).ShouldBeTrue();
        ClientSecrets.Matches(client, "wrong", now).ShouldBeFalse();
        client.PreviousSecretExpiresAt = null;
        ClientSecrets.Matches(client, previous, now).ShouldBeFalse();
    }

    [Theory]
    [InlineData("com.example.app:/callback", true)]
    [InlineData("fr.sante.app:/", true)]
    [InlineData("myapp:/callback", false)]
    [InlineData("com.example.app://callback", false)]
    [InlineData("com.example.app:/cb#frag", false)]
    [InlineData("Com.Example.App:/cb", false)]
    [InlineData("https://partner.example/cb", false)]
    public void IsPrivateUseRedirect_Rules(string uri, bool accepted)
    {
        ClientAdministration.IsPrivateUseRedirect(uri).ShouldBe(accepted);
    }

    [Theory]
    [InlineData("eidas1", null, true)]
    [InlineData("eidas1", "eidas1", true)]
    [InlineData("eidas1", "eidas2", false)]
    [InlineData("eidas2", "eidas1", true)]
    [InlineData("eidas1", "something-else", false)]
    public void Satisfies_EidasOrder(string achieved, string? required, bool expected)
    {
        Session.Satisfies(achieved, required).ShouldBe(expected);
    }

    [Theory]
    [InlineData("https://partner.example/cb", true)]
    [InlineData("http://127.0.0.1:8080/cb", true)]
    [InlineData("http://partner.example/cb", false)]
    [InlineData("https://partner.example/cb#frag", false)]
    [InlineData("https://user:pw@partner.example/cb", false)]
    [InlineData("/relative", false)]
    [InlineData("javascript:alert(1)", false)]
    public void IsAcceptableRedirect_Rules(string uri, bool accepted)
    {
        ClientAdministration.IsAcceptableRedirect(uri).ShouldBe(accepted);
    }
}
