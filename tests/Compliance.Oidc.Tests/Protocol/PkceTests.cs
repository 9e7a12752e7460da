using Compliance.Oidc.Endpoints.Token;

namespace Compliance.Oidc.Tests.Protocol;

public class PkceTests
{
    [Fact]
    public void VerifierMatches_Rfc7636AppendixBExample_Matches()
    {
        // RFC 7636 Appendix B.
        TokenResponses.VerifierMatches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").ShouldBeTrue();
    }

    [Fact]
    public void VerifierMatches_OtherVerifier_DoesNotMatch()
    {
        TokenResponses.VerifierMatches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").ShouldBeFalse();
    }

    [Fact]
    public void VerifierMatches_PlainMethodChallenge_DoesNotMatch()
    {
        const string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

        TokenResponses.VerifierMatches(verifier, verifier).ShouldBeFalse();
    }
}
