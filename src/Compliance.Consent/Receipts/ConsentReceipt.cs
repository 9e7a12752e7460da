using System.Text.Json.Serialization;

namespace Compliance.Consent.Receipts;

/// <summary>
/// A consent receipt: the exact record bytes and their salt, the leaf that commits to them, an inclusion proof, and the
/// signed checkpoint it leads to. With the published attestation keys alone, anyone can check that the ledger held
/// this record when the checkpoint was signed. <see cref="Kantara"/> is a view of the same record in the shape of the
/// Kantara Initiative consent receipt (v1.1), for tools that read it; the proof is over <see cref="Record"/>.
/// </summary>
public sealed record ConsentReceipt(
    [property: JsonPropertyName("receipt_version")] string ReceiptVersion,
    [property: JsonPropertyName("kantara")] KantaraReceipt Kantara,
    [property: JsonPropertyName("record")] string Record,
    [property: JsonPropertyName("salt")] string Salt,
    [property: JsonPropertyName("leaf")] ReceiptLeaf Leaf,
    [property: JsonPropertyName("inclusion_proof")] ReceiptProof InclusionProof,
    [property: JsonPropertyName("checkpoint")] string Checkpoint,
    [property: JsonPropertyName("keys_url")] string KeysUrl)
{
    public const string Version = "compliance.consent-receipt/1";
}

/// <summary>The leaf header (RFC 9162 leaf input, see <c>LeafHeader</c>); times in RFC 3339 with microseconds.</summary>
public sealed record ReceiptLeaf(
    [property: JsonPropertyName("index")] long Index,
    [property: JsonPropertyName("event_id")] Guid EventId,
    [property: JsonPropertyName("appended_at")] string AppendedAt,
    [property: JsonPropertyName("payload_commitment")] string PayloadCommitment);

public sealed record ReceiptProof(
    [property: JsonPropertyName("tree_size")] long TreeSize,
    [property: JsonPropertyName("hashes")] IReadOnlyList<string> Hashes);

/// <summary>The Kantara consent receipt v1.1 fields we can fill from a record.</summary>
public sealed record KantaraReceipt(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("jurisdiction")] string Jurisdiction,
    [property: JsonPropertyName("consentTimestamp")] long ConsentTimestamp,
    [property: JsonPropertyName("collectionMethod")] string CollectionMethod,
    [property: JsonPropertyName("consentReceiptID")] string ConsentReceiptId,
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("piiPrincipalId")] string PiiPrincipalId,
    [property: JsonPropertyName("piiControllers")] IReadOnlyList<KantaraController> PiiControllers,
    [property: JsonPropertyName("policyUrl")] string? PolicyUrl,
    [property: JsonPropertyName("services")] IReadOnlyList<KantaraService> Services,
    [property: JsonPropertyName("sensitive")] bool Sensitive,
    [property: JsonPropertyName("spiCat")] IReadOnlyList<string> SpiCat);

public sealed record KantaraController(
    [property: JsonPropertyName("piiController")] string PiiController,
    [property: JsonPropertyName("contact")] string? Contact,
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("onBehalf")] bool OnBehalf);

public sealed record KantaraService(
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("purposes")] IReadOnlyList<KantaraPurpose> Purposes);

public sealed record KantaraPurpose(
    [property: JsonPropertyName("purpose")] string Purpose,
    [property: JsonPropertyName("purposeCategory")] IReadOnlyList<string> PurposeCategory,
    [property: JsonPropertyName("consentType")] string ConsentType,
    [property: JsonPropertyName("piiCategory")] IReadOnlyList<string> PiiCategory,
    [property: JsonPropertyName("primaryPurpose")] bool PrimaryPurpose,
    [property: JsonPropertyName("termination")] string Termination,
    [property: JsonPropertyName("thirdPartyDisclosure")] bool ThirdPartyDisclosure,
    [property: JsonPropertyName("state")] string State);
