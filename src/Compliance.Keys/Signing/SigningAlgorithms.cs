using Microsoft.IdentityModel.Tokens;

namespace Compliance.Keys.Signing;

/// <summary>The JWS algorithms the ring keeps keys for. JOSE names are case-sensitive.</summary>
internal static class SigningAlgorithms
{
    public const string ES256 = SecurityAlgorithms.EcdsaSha256;
    public const string RS256 = SecurityAlgorithms.RsaSha256;

    /// <summary>RSA keys are 3072 bits: ANSSI's guide (RGS B1) asks for at least 3072 for use beyond 2030.</summary>
    public const int RsaKeySizeBits = 3072;

    public static IReadOnlyList<string> All { get; } = [ES256, RS256];

    public static string Require(string algorithm, string parameterName) => algorithm switch
    {
        ES256 => ES256,
        RS256 => RS256,
        _ => throw new ArgumentOutOfRangeException(parameterName, "Supported signing algorithms are ES256 and RS256."),
    };
}
