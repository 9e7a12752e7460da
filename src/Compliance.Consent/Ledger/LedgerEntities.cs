namespace Compliance.Consent.Ledger;

/// <summary>
/// A leaf of the Merkle log (<c>consent_leaves</c>): its position, its event's id, when it was appended, the commitment
/// to its payload (SHA-256 of salt ‖ payload), the leaf hash, and the seal (a keyed hash over the leaf hash that only
/// key custody can make). Nothing here names a subject, a purpose or a state: the header outlives a redaction. The
/// table refuses every UPDATE and DELETE (triggers).
/// </summary>
internal sealed class ConsentLeaf
{
    public long LeafIndex { get; set; }

    public Guid EventId { get; set; }

    public DateTimeOffset AppendedAt { get; set; }

    public required byte[] PayloadCommitment { get; set; }

    public required byte[] LeafHash { get; set; }

    public required byte[] Seal { get; set; }
}

/// <summary>
/// The payload of an event (<c>consent_payloads</c>): the exact JSON bytes of the consent record and their salt. The
/// only change the table accepts is setting both to NULL (a redaction); it refuses every DELETE.
/// </summary>
internal sealed class ConsentPayload
{
    public Guid EventId { get; set; }

    public byte[]? Payload { get; set; }

    public byte[]? Salt { get; set; }
}

/// <summary>
/// A signed checkpoint (<c>consent_checkpoints</c>): the tree's size and root at a time, as a compact JWS by an
/// attestation key. Append-only, like the leaves.
/// </summary>
internal sealed class ConsentCheckpoint
{
    public long TreeSize { get; set; }

    public required byte[] RootHash { get; set; }

    public DateTimeOffset SignedAt { get; set; }

    public required string KeyId { get; set; }

    public required string Jws { get; set; }
}

/// <summary>
/// The lookup of a subject's events (<c>consent_subject_events</c>): derived data, deleted with a redaction, so that the
/// leaves alone link nothing to anyone.
/// </summary>
internal sealed class ConsentSubjectEvent
{
    public Guid EventId { get; set; }

    public Guid SubjectId { get; set; }

    public required string ClientId { get; set; }

    public required string PurposeId { get; set; }

    public ConsentState State { get; set; }

    /// <summary>The notice version the event recorded, so that <c>policies validate</c> knows which versions are referenced.</summary>
    public string? NoticeVersion { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public long LeafIndex { get; set; }
}

/// <summary>
/// The current state per subject, partner and purpose (<c>consent_states</c>): the projection of the events, written
/// in the same transaction as the event that changes it. Deleted with a redaction.
/// </summary>
internal sealed class ConsentStanding
{
    public Guid SubjectId { get; set; }

    public required string ClientId { get; set; }

    public required string PurposeId { get; set; }

    public ConsentState State { get; set; }

    public Guid EventId { get; set; }

    /// <summary>The notice version the deciding event recorded; null for a state no notice was shown for.</summary>
    public string? NoticeVersion { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>
/// A partner request already recorded (<c>consent_partner_requests</c>): its idempotency key, the hash of its body and
/// the first event it appended, written in the same transaction as that event.
/// </summary>
internal sealed class ConsentPartnerRequest
{
    public required string ClientId { get; set; }

    public required string IdempotencyKey { get; set; }

    public required byte[] RequestHash { get; set; }

    public Guid EventId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
