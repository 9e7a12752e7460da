namespace Compliance.Consent.Verification;

/// <summary>
/// One leaf row joined with its payload row. Payload and Salt are both null after a redaction; HasPayloadRow is false
/// when the payload row itself is gone.
/// </summary>
public sealed record LedgerRow(long Index, Guid EventId, DateTimeOffset AppendedAt, byte[] PayloadCommitment,
    byte[] LeafHash, byte[] Seal, bool HasPayloadRow, byte[]? Salt, byte[]? Payload);

/// <summary>A checkpoint as stored: its signed size and root, and whether its signature verified (the caller checks it).</summary>
public sealed record CheckpointToCheck(long TreeSize, byte[] RootHash, DateTimeOffset SignedAt, string KeyId, bool SignatureValid);

/// <summary>
/// The seal: a keyed hash (HMAC-SHA256 under a secret held in key custody) over the stored leaf hash. Whoever edits the
/// tables without the key can recompute every plain hash but cannot seal.
/// </summary>
public interface ILeafSeal
{
    ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken);
}

/// <summary>The kinds of tampering verification tells apart.</summary>
public enum TamperKind
{
    Changed,
    Deleted,
    Reordered,
    Inserted,
    CheckpointMismatch,
    CheckpointSignature,
}

/// <summary>One finding: its kind, and the leaf index and event id whenever known. Detail is one line, without content.</summary>
public sealed record LedgerFinding(TamperKind Kind, long? Index, Guid? EventId, string Detail);

/// <summary>The outcome of a full verification.</summary>
public sealed record LedgerVerification(long Leaves, long Redacted, byte[] Root, IReadOnlyList<LedgerFinding> Findings, long CheckpointsChecked, TimeSpan Elapsed)
{
    public bool Intact => Findings.Count == 0;
}
