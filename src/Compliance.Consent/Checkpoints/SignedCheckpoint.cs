using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Checkpoints;

/// <summary>
/// What a checkpoint signs: the log, its size, its root hash (RFC 9162) and the time. The JWS's payload is these bytes;
/// a verifier reads them from the JWS, never from anything beside it.
/// </summary>
public sealed record CheckpointStatement(
    [property: JsonPropertyName("log")] string Log,
    [property: JsonPropertyName("tree_size")] long TreeSize,
    [property: JsonPropertyName("root_hash")] string RootHash,
    [property: JsonPropertyName("signed_at")] string SignedAt)
{
    /// <summary>The JWS <c>typ</c> of checkpoints.</summary>
    public const string Type = "consent-checkpoint+jws";

    public static CheckpointStatement For(string log, long treeSize, byte[] root, DateTimeOffset signedAt) =>
        new(log, treeSize, Base64UrlEncoder.Encode(root), signedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this);

    /// <summary>Parses a signed statement; null when it is not one (never throws on hostile bytes).</summary>
    public static CheckpointStatement? Parse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var statement = JsonSerializer.Deserialize<CheckpointStatement>(bytes);
            return statement is { TreeSize: > 0, RootHash.Length: 43, Log: not null, SignedAt: not null } && statement.Time is not null ? statement : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [JsonIgnore]
    public DateTimeOffset? Time => DateTimeOffset.TryParseExact(SignedAt, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture,
        DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    [JsonIgnore]
    public byte[] Root => Base64UrlEncoder.DecodeBytes(RootHash);

    /// <summary>The signing time a verifier checks against the key's validity, read from a JWS payload.</summary>
    public static DateTimeOffset? SignedAtOf(ReadOnlyMemory<byte> payload) => Parse(payload.Span)?.Time;
}

/// <summary>A checkpoint as the ledger publishes it.</summary>
public sealed record SignedCheckpoint(long TreeSize, byte[] RootHash, DateTimeOffset SignedAt, string KeyId, string Jws);
