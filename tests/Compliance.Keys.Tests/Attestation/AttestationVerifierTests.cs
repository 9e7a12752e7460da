using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Compliance.Keys.Attestation;
using static Compliance.Keys.Tests.Attestation.AttestationTestPayloads;

namespace Compliance.Keys.Tests.Attestation;

/// <summary>
/// The offline verifier on its own: no store, no services, keys made here with the platform's ECDSA and the RFC 7638
/// thumbprint computed by hand, so that the verifier is checked against an independent signer.
/// </summary>
public sealed class AttestationVerifierTests : IDisposable
{
    private static readonly DateTimeOffset ValidFrom = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset SignedAtTime = ValidFrom.AddDays(10);

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly AttestationKey _published;

    public AttestationVerifierTests()
    {
        _published = Published(_key, ValidFrom);
    }

    public void Dispose() => _key.Dispose();

    [Fact]
    public void Verify_SignatureMadeByAnIndependentSigner_IsValid()
    {
        var jws = Sign(_key, Header(Kid), At(SignedAtTime));

        var check = AttestationVerifier.Verify(jws, [_published], ReceiptType, SignedAt);

        check.Valid.ShouldBeTrue(check.Refusal);
        check.Payload.ShouldBe(At(SignedAtTime));
    }

    [Fact]
    public void KeySetJson_ParsedBack_GivesTheSameKeysAndHoldsNoPrivateMember()
    {
        var retired = _published with { RetiredAt = ValidFrom.AddDays(365), CompromisedFrom = ValidFrom.AddDays(200).AddMilliseconds(5) };

        var json = AttestationVerifier.KeySetJson([retired]);
        var parsed = AttestationVerifier.ParseKeySet(json).ShouldHaveSingleItem();

        json.ShouldContain("\"valid_from\":\"2030-01-01T00:00:00Z\"");
        json.ShouldContain("\"retired_at\":\"2031-01-01T00:00:00Z\"");
        json.ShouldNotContain("\"d\"");
        json.ShouldNotContain(Base64Url.EncodeToString(_key.ExportParameters(true).D));
        (parsed.KeyId, parsed.ValidFrom, parsed.RetiredAt, parsed.CompromisedFrom).ShouldBe((retired.KeyId, retired.ValidFrom, retired.RetiredAt, retired.CompromisedFrom));
    }

    [Fact]
    public void KeySetJson_JwkWithAPrivateMember_WritesOnlyThePublicOnes()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: true);
        var leaky = _published with { PublicJwkJson = _published.PublicJwkJson.TrimEnd('}') + $",\"d\":\"{Base64Url.EncodeToString(parameters.D)}\"}}" };

        Should.Throw<ArgumentException>(() => AttestationVerifier.KeySetJson([leaky])).Message.ShouldNotContain(Base64Url.EncodeToString(parameters.D));
    }

    public static TheoryData<string, string> HostileJws()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var payload = Encode(At(SignedAtTime));
        string H(string json) => Encode(Encoding.UTF8.GetBytes(json));
        var goodHeader = H($$"""{"alg":"ES256","kid":"KID","typ":"{{ReceiptType}}"}""");
        var sig = Encode(new byte[64]);
        return new TheoryData<string, string>
        {
            { "", "empty" },
            { "abc", "one part" },
            { $"{goodHeader}.{payload}", "two parts" },
            { $"{goodHeader}.{payload}.{sig}.{sig}", "four parts" },
            { $"{goodHeader}.{payload}.{sig}.", "trailing dot" },
            { $"{goodHeader}.{payload}.a+b/", "not base64url" },
            { $"{goodHeader}=.{payload}.{sig}", "padded" },
            { $"{goodHeader} .{payload}.{sig}", "whitespace" },
            { $"{goodHeader}.{payload}.A", "impossible base64url length" },
            { $"{H(new string(' ', 4000) + "{}")}.{payload}.{sig}", "huge header" },
            { $"{H("[1,2]")}.{payload}.{sig}", "header not an object" },
            { $"{H("not json")}.{payload}.{sig}", "header not JSON" },
            { $"{H("""{"alg":"ES256","kid":"abc\r\nforged","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "kid with CR LF" },
            { $"{H("""{"alg":"none","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.", "alg none" },
            { $"{H("""{"alg":"HS256","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "alg HS256" },
            { $"{H("""{"alg":"RS256","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "alg RS256" },
            { $"{H("""{"alg":"ES384","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "alg ES384" },
            { $"{H("""{"alg":"es256","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "alg lower case" },
            { $"{H("""{"alg":"ES256","alg":"none","kid":"KID","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "duplicate alg" },
            { $"{H("""{"alg":"ES256","kid":"KID","typ":"consent-receipt+jws","crit":["exp"]}""")}.{payload}.{sig}", "crit" },
            { $"{H("""{"alg":"ES256","kid":"KID","typ":"consent-receipt+jws","jwk":{"kty":"EC"}}""")}.{payload}.{sig}", "embedded jwk" },
            { $"{H("""{"alg":"ES256","kid":"KID"}""")}.{payload}.{sig}", "no typ" },
            { $"{H("""{"alg":"ES256","kid":7,"typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "kid a number" },
            { $"{H("""{"alg":"ES256","kid":"unknown","typ":"consent-receipt+jws"}""")}.{payload}.{sig}", "unknown kid" },
        };
    }

    [Theory]
    [MemberData(nameof(HostileJws))]
    public void Verify_HostileJws_IsRefusedWithAReasonNeverAnException(string jws, string what)
    {
        var check = AttestationVerifier.Verify(jws.Replace("KID", Kid, StringComparison.Ordinal), [_published], ReceiptType, SignedAt);

        check.Valid.ShouldBeFalse(what);
        check.Payload.ShouldBeNull();
        check.Refusal.ShouldNotBeNullOrWhiteSpace();
        check.Refusal.ShouldNotContain("\n");
        check.Refusal.ShouldNotContain("\r");
    }

    [Fact]
    public void Verify_TamperedPayload_IsRefused()
    {
        var parts = Sign(_key, Header(Kid), At(SignedAtTime)).Split('.');
        var tampered = $"{parts[0]}.{Encode(At(SignedAtTime, "forged"))}.{parts[2]}";

        var check = AttestationVerifier.Verify(tampered, [_published], ReceiptType, SignedAt);

        check.Valid.ShouldBeFalse();
        check.Refusal.ShouldNotBeNull().ShouldContain("signature does not verify");
    }

    [Theory]
    [InlineData("leading zero")]
    [InlineData("trimmed")]
    [InlineData("der")]
    [InlineData("flipped")]
    [InlineData("s replaced by n - s")]
    public void Verify_SignatureOfTheWrongFormOrLength_IsRefused(string how)
    {
        var parts = Sign(_key, Header(Kid), At(SignedAtTime)).Split('.');
        var signature = Base64Url.DecodeFromChars(parts[2]);
        byte[] altered = how switch
        {
            "leading zero" => [0, .. signature],
            "trimmed" => signature[1..],
            "der" => _key.SignData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            "flipped" => [.. signature[..63], (byte)(signature[63] ^ 1)],
            _ => [.. signature[..32], .. MalleatedS(signature[32..])],
        };

        var check = AttestationVerifier.Verify($"{parts[0]}.{parts[1]}.{Encode(altered)}", [_published], ReceiptType, SignedAt);

        if (how == "s replaced by n - s")
        {
            // ECDSA is malleable: (r, n - s) is also a valid signature of the same payload. It verifies, as the JWS
            // specification allows, and still binds the same payload and key: nothing is forged.
            check.Valid.ShouldBeTrue(check.Refusal);
            check.Payload.ShouldBe(At(SignedAtTime));
            return;
        }

        check.Valid.ShouldBeFalse(how);
        check.Refusal.ShouldNotBeNull().ShouldContain("signature");
    }

    [Fact]
    public void Verify_KeySetNamingTheKidTwice_IsRefused()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var impostor = Published(other, ValidFrom) with { KeyId = Kid };
        var jws = Sign(_key, Header(Kid), At(SignedAtTime));

        var check = AttestationVerifier.Verify(jws, [_published, impostor], ReceiptType, SignedAt);

        check.Valid.ShouldBeFalse();
        check.Refusal.ShouldNotBeNull().ShouldContain("more than once");
    }

    [Fact]
    public void Verify_KeyOfAnotherCurveUnderTheKid_IsRefused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var q = p384.ExportParameters(false).Q;
        var jwk = $$"""{"kty":"EC","crv":"P-384","x":"{{Encode(q.X!)}}","y":"{{Encode(q.Y!)}}"}""";
        var key = new AttestationKey(Kid, "ES256", jwk, ValidFrom, null, null);
        var jws = Sign(p384, Header(Kid), At(SignedAtTime));

        var check = AttestationVerifier.Verify(jws, [key], ReceiptType, SignedAt);

        check.Valid.ShouldBeFalse();
        check.Refusal.ShouldNotBeNull().ShouldContain("not a P-256 key");
    }

    [Fact]
    public void Verify_KeySetEntryWhoseKidIsNotItsThumbprint_IsRefused()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var swapped = Published(other, ValidFrom) with { KeyId = Kid };
        var jws = Sign(other, Header(Kid), At(SignedAtTime));

        AttestationVerifier.Verify(jws, [swapped], ReceiptType, SignedAt).Valid.ShouldBeFalse();
    }

    [Fact]
    public void Verify_SigningTimeOutsideTheKeysWindow_IsRefused()
    {
        var key = _published with { RetiredAt = ValidFrom.AddDays(30), CompromisedFrom = ValidFrom.AddDays(20) };
        string Check(DateTimeOffset at) =>
            AttestationVerifier.Verify(Sign(_key, Header(Kid), At(at)), [key], ReceiptType, SignedAt) is { Valid: false } refused ? refused.Refusal! : "valid";

        Check(ValidFrom).ShouldBe("valid");
        Check(ValidFrom.AddDays(20).AddTicks(-1)).ShouldBe("valid");
        Check(ValidFrom.AddTicks(-1)).ShouldContain("before key");
        Check(ValidFrom.AddDays(20)).ShouldContain("compromised");
        Check(ValidFrom.AddDays(30)).ShouldContain("retired");
    }

    [Fact]
    public void Verify_PayloadWithoutAReadableTime_IsRefused()
    {
        var noTime = Sign(_key, Header(Kid), "{\"what\":\"receipt\"}"u8.ToArray());
        var notJson = Sign(_key, Header(Kid), "not json"u8.ToArray());

        AttestationVerifier.Verify(noTime, [_published], ReceiptType, SignedAt).Refusal.ShouldNotBeNull().ShouldContain("no signing time");
        AttestationVerifier.Verify(notJson, [_published], ReceiptType, SignedAt).Refusal.ShouldNotBeNull().ShouldContain("no readable signing time");
    }

    [Fact]
    public void Verify_HugeJws_IsRefused()
    {
        var huge = Sign(_key, Header(Kid), new byte[AttestationVerifier.MaxJwsLength]);

        AttestationVerifier.Verify(huge, [_published], ReceiptType, SignedAt).Refusal.ShouldNotBeNull().ShouldContain("too long");
    }

    public static TheoryData<string> HostileKeySets()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var good = AttestationVerifier.KeySetJson([Published(key, ValidFrom)]);
        var p = key.ExportParameters(includePrivateParameters: true);
        return
        [
            "",
            "null",
            "[]",
            "{",
            """{"keys":{}}""",
            """{"keys":[1]}""",
            """{"keys":[{}]}""",
            good.Replace("2030-01-01T00:00:00Z", "2030-01-01 00:00:00", StringComparison.Ordinal),
            good.Replace("2030-01-01T00:00:00Z", "2030-01-01T02:00:00+02:00", StringComparison.Ordinal),
            good.Replace("\"alg\":\"ES256\",\"jwk\"", "\"alg\":\"none\",\"jwk\"", StringComparison.Ordinal),
            good.Replace("\"crv\":\"P-256\"", "\"crv\":\"P-384\"", StringComparison.Ordinal),
            good.Replace("\"kty\":\"EC\"", $"\"kty\":\"EC\",\"d\":\"{Encode(p.D!)}\"", StringComparison.Ordinal),
            good.Replace("\"x\":\"", "\"x\":\"A", StringComparison.Ordinal),
            good.Replace("]}", "," + good[9..^2] + "]}", StringComparison.Ordinal),
        ];
    }

    [Theory]
    [MemberData(nameof(HostileKeySets))]
    public void ParseKeySet_MalformedDocument_ThrowsFormatExceptionInOneLine(string json)
    {
        var refusal = Should.Throw<FormatException>(() => AttestationVerifier.ParseKeySet(json));

        refusal.Message.ShouldNotContain("\n");
    }

    [Fact]
    public void ParseKeySet_TheSameKidTwice_IsRefused()
    {
        var json = AttestationVerifier.KeySetJson([_published, _published]);

        Should.Throw<FormatException>(() => AttestationVerifier.ParseKeySet(json)).Message.ShouldContain("twice");
    }

    private string Kid => _published.KeyId;

    private static string Header(string kid) => $$"""{"alg":"ES256","kid":"{{kid}}","typ":"{{ReceiptType}}"}""";

    private static string Encode(byte[] bytes) => Base64Url.EncodeToString(bytes);

    private static string Sign(ECDsa key, string header, byte[] payload)
    {
        var input = $"{Encode(Encoding.UTF8.GetBytes(header))}.{Encode(payload)}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{input}.{Encode(signature)}";
    }

    private static AttestationKey Published(ECDsa key, DateTimeOffset validFrom)
    {
        var q = key.ExportParameters(includePrivateParameters: false).Q;
        var (x, y) = (Encode(q.X!), Encode(q.Y!));
        var thumbprint = Encode(SHA256.HashData(Encoding.UTF8.GetBytes($$"""{"crv":"P-256","kty":"EC","x":"{{x}}","y":"{{y}}"}""")));
        return new AttestationKey(thumbprint, "ES256", $$"""{"kty":"EC","crv":"P-256","x":"{{x}}","y":"{{y}}"}""", validFrom, null, null);
    }

    /// <summary>n - s for P-256's group order n: the other valid s of an ECDSA signature.</summary>
    private static byte[] MalleatedS(byte[] s)
    {
        var n = System.Numerics.BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber);
        var value = new System.Numerics.BigInteger(s, isUnsigned: true, isBigEndian: true);
        var bytes = (n - value).ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }
}
