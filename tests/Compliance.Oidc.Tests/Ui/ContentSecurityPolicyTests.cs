using Compliance.Oidc.Ui;

namespace Compliance.Oidc.Tests.Ui;

public sealed class ContentSecurityPolicyTests
{
    [Theory]
    [InlineData(null, "form-action 'self'")]
    [InlineData("https://partner.example/cb?x=1", "form-action 'self' https://partner.example")]
    [InlineData("http://127.0.0.1:8123/cb", "form-action 'self' http://127.0.0.1:8123")]
    [InlineData("com.example.app:/callback", "form-action 'self' com.example.app:")]
    // Not a registrable redirect: nothing is added, so a crafted value cannot widen the policy.
    [InlineData("javascript:alert(1)", "form-action 'self'")]
    [InlineData("data:text/html,x", "form-action 'self'")]
    [InlineData("com.example.app://host/cb", "form-action 'self'")]
    [InlineData("com.example.app:/cb; script-src *", "form-action 'self'")]
    [InlineData("not a uri", "form-action 'self'")]
    public void FormAction_AddsTheRedirectsOriginOrPrivateUseScheme_AndNothingElse(string? formTarget, string expected)
    {
        var directives = Html.ContentSecurityPolicy(formTarget).Split(';').Select(d => d.Trim()).ToList();

        directives.Single(d => d.StartsWith("form-action", StringComparison.Ordinal)).ShouldBe(expected);
        directives.ShouldContain("script-src 'none'");
    }
}
