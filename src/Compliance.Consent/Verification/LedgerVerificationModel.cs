namespace Compliance.Consent.Verification;

/// <summary>One leaf row joined with its payload row. Payload and Salt are both null after a redaction;
/// <paramref name="HasPayloadRow"/> is false when the payload row itself is gone.</summary>
public sealed record LedgerRow(long Index, Guid EventId, DateTimeOffset AppendedAt, byte[] PayloadCommitment,
    byte[] LeafHash, byte[] Seal, bool HasPayloadRow, byte[]? Salt, byte[]? Payload);

/// <summary>A checkpoint as stored, with whether its signature verified against the attestation keys (the caller checks it).</summary>
public sealed record CheckpointToCheck(long TreeSize, byte[] RootHash, DateTimeOffset SignedAt, string KeyId, bool SignatureValid);

/// <summary>
/// The seal: a keyed hash (HMAC-SHA256 under a secret held in key custody) over the stored leaf hash. Whoever edits
/// the tables without the key can recompute every plain hash but cannot seal. The verifier calls it from several
/// threads at once, so an implementation must be thread-safe; it should complete synchronously when it can.
/// </summary>
public interface ILeafSeal
{
    ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken);
}

/// <summary>The kinds of tampering the verifier names.</summary>
public enum TamperKind
{
    Changed,
    Deleted,
    Reordered,
    Inserted,
    CheckpointMismatch,
    CheckpointSignature,
}

/// <summary>One tampering found, at an index and event when known; <paramref name="Detail"/> is one plain line, without payload content.</summary>
public sealed record LedgerFinding(TamperKind Kind, long? Index, Guid? EventId, string Detail);

/// <summary>The result of a full verification: leaves read, redacted payloads, the recomputed root, and every finding.</summary>
public sealed record LedgerVerification(long Leaves, long Redacted, byte[] Root, IReadOnlyList<LedgerFinding> Findings,
    long CheckpointsChecked, TimeSpan Elapsed)
{
    public bool Intact => Findings.Count == 0;
}
