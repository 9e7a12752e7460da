using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A WebAuthn authenticator in software (ES256, "none" attestation), written from the WebAuthn Level 3 spec, that
/// answers the options the server sends as a browser would hand them over (the JSON of <c>toJSON()</c>). Each answer
/// can be bent the way an attacker would: another origin, another RP id, no user verification, a broken signature.
/// </summary>
public sealed class SoftwareAuthenticator : IDisposable
{
    private readonly Dictionary<string, (ECDsa Key, byte[] UserHandle, bool BackupEligible)> _credentials = [];
    private uint _signCount;

    /// <summary>The AAGUID this model reports in its attested credential data.</summary>
    public static readonly Guid Aaguid = Guid.Parse("6a1f3c5e-0d2b-4c8e-9f7a-112233445566");

    public void Dispose()
    {
        foreach (var (key, _, _) in _credentials.Values)
        {
            key.Dispose();
        }
    }

    /// <summary>Answers <c>navigator.credentials.create</c>; returns the credential JSON and its id.</summary>
    public (string Json, string CredentialId) Create(JsonElement options, string origin, Bend bend = default, bool backupEligible = false)
    {
        var challenge = options.GetProperty("challenge").GetString()!;
        var rpId = bend.RpId ?? options.GetProperty("rp").GetProperty("id").GetString()!;
        var userHandle = Base64UrlEncoder.DecodeBytes(options.GetProperty("user").GetProperty("id").GetString()!);
        var credentialId = RandomNumberGenerator.GetBytes(32);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var id = Base64UrlEncoder.Encode(credentialId);
        _credentials[id] = (key, userHandle, backupEligible);

        var parameters = key.ExportParameters(includePrivateParameters: false);
        var cose = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cose.WriteStartMap(5);
        cose.WriteInt32(1); cose.WriteInt32(2);     // kty: EC2
        cose.WriteInt32(3); cose.WriteInt32(-7);    // alg: ES256
        cose.WriteInt32(-1); cose.WriteInt32(1);    // crv: P-256
        cose.WriteInt32(-2); cose.WriteByteString(parameters.Q.X!);
        cose.WriteInt32(-3); cose.WriteByteString(parameters.Q.Y!);
        cose.WriteEndMap();

        var attested = new List<byte>();
        attested.AddRange(Aaguid.ToByteArray(bigEndian: true));
        attested.Add((byte)(credentialId.Length >> 8));
        attested.Add((byte)credentialId.Length);
        attested.AddRange(credentialId);
        attested.AddRange(cose.Encode());
        var authData = AuthenticatorData(rpId, bend, attestedData: true, backupEligible).Concat(attested).ToArray();

        var attestation = new CborWriter(CborConformanceMode.Ctap2Canonical);
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt"); attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt"); attestation.WriteStartMap(0); attestation.WriteEndMap();
        attestation.WriteTextString("authData"); attestation.WriteByteString(authData);
        attestation.WriteEndMap();

        var clientData = ClientData("webauthn.create", challenge, bend.Origin ?? origin);
        var json = new JsonObject
        {
            ["id"] = id,
            ["rawId"] = id,
            ["type"] = "public-key",
            ["authenticatorAttachment"] = "platform",
            ["clientExtensionResults"] = new JsonObject(),
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64UrlEncoder.Encode(clientData),
                ["attestationObject"] = Base64UrlEncoder.Encode(attestation.Encode()),
                ["transports"] = new JsonArray("internal"),
            },
        };
        return (json.ToJsonString(), id);
    }

    /// <summary>Answers <c>navigator.credentials.get</c> with one of its credentials (by default the only one it has).</summary>
    public string Get(JsonElement options, string origin, string? credentialId = null, Bend bend = default)
    {
        var challenge = options.GetProperty("challenge").GetString()!;
        var rpId = bend.RpId ?? options.GetProperty("rpId").GetString()!;
        var id = credentialId ?? _credentials.Keys.Single();
        // The backup-eligible flag is the credential's for life (WebAuthn §6.1.3): the server checks it never changes.
        var (key, userHandle, backupEligible) = _credentials[id];
        var authData = AuthenticatorData(rpId, bend, attestedData: false, backupEligible);
        var clientData = ClientData("webauthn.get", challenge, bend.Origin ?? origin);
        var signature = key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        if (bend.BreakSignature)
        {
            signature[^1] ^= 0x01;
        }

        return new JsonObject
        {
            ["id"] = id,
            ["rawId"] = id,
            ["type"] = "public-key",
            ["authenticatorAttachment"] = "platform",
            ["clientExtensionResults"] = new JsonObject(),
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64UrlEncoder.Encode(clientData),
                ["authenticatorData"] = Base64UrlEncoder.Encode(authData),
                ["signature"] = Base64UrlEncoder.Encode(signature),
                ["userHandle"] = Base64UrlEncoder.Encode(userHandle),
            },
        }.ToJsonString();
    }

    /// <summary>Lends a credential to another authenticator (an attacker holding someone else's key).</summary>
    public void Share(string credentialId, SoftwareAuthenticator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        other._credentials[credentialId] = _credentials[credentialId];
    }

    private byte[] AuthenticatorData(string rpId, Bend bend, bool attestedData, bool backupEligible)
    {
        const byte UserPresent = 0x01, UserVerified = 0x04, BackupEligible = 0x08, BackedUp = 0x10, AttestedData = 0x40;
        var flags = (byte)(UserPresent | (bend.NoUserVerification ? 0 : UserVerified) | (attestedData ? AttestedData : 0)
            | (backupEligible ? BackupEligible | BackedUp : 0));
        var count = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(count, ++_signCount);
        return [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), flags, .. count];
    }

    private static byte[] ClientData(string type, string challenge, string origin) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = origin, ["crossOrigin"] = false }.ToJsonString());

    /// <summary>How an answer is bent: null and false mean an honest answer.</summary>
    public readonly record struct Bend(string? Origin = null, string? RpId = null, bool NoUserVerification = false, bool BreakSignature = false);
}
