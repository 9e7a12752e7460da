using System.Text.Json;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Consent.Merkle;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Receipts;

/// <summary>The outcome of checking a receipt: valid with the record it proves, or the first reason it is not.</summary>
public sealed record ReceiptCheck(bool Valid, string? Refusal, ConsentRecord? Record, long? TreeSize, string? KeyId, DateTimeOffset? CheckpointSignedAt);

/// <summary>
/// Checks a receipt offline, with nothing but the receipt and the published attestation keys (<c>/ledger/keys</c>):
/// the record's commitment, the leaf it makes, the inclusion proof up to the checkpoint's root, and the checkpoint's
/// signature by a key that was valid (and not yet compromised) when it signed. Never throws on hostile input.
/// </summary>
public static class ReceiptVerifier
{
    /// <summary>The largest receipt read (a receipt is a few kilobytes).</summary>
    public const int MaxReceiptBytes = 1 << 20;

    public static ReceiptCheck Verify(byte[] receiptJson, string keySetJson)
    {
        ArgumentNullException.ThrowIfNull(receiptJson);
        if (receiptJson.Length > MaxReceiptBytes)
        {
            return Refuse("the receipt is larger than 1 MiB");
        }

        IReadOnlyList<AttestationKey> keys;
        try
        {
            keys = AttestationVerifier.ParseKeySet(keySetJson);
        }
        catch (FormatException e)
        {
            return Refuse("the attestation key set is not valid: " + e.Message);
        }

        ConsentReceipt? receipt;
        try
        {
            receipt = JsonSerializer.Deserialize<ConsentReceipt>(receiptJson);
        }
        catch (JsonException)
        {
            return Refuse("the receipt is not JSON of the expected shape");
        }

        if (receipt is not { ReceiptVersion: ConsentReceipt.Version, Record: not null, Salt: not null, Leaf: not null, InclusionProof.Hashes: not null, Checkpoint: not null })
        {
            return Refuse($"the receipt is not a {ConsentReceipt.Version} receipt");
        }

        if (!TryDecode(receipt.Record, out var record) || !TryDecode(receipt.Salt, out var salt) || salt.Length != 32
            || !TryDecode(receipt.Leaf.PayloadCommitment, out var commitment) || commitment.Length != MerkleHash.Size
            || ConsentReceipts.ParseRfc3339(receipt.Leaf.AppendedAt ?? "") is not { } appendedAt)
        {
            return Refuse("the receipt's record, salt or leaf is malformed");
        }

        var proof = new List<byte[]>(receipt.InclusionProof.Hashes.Count);
        foreach (var hash in receipt.InclusionProof.Hashes)
        {
            if (!TryDecode(hash, out var bytes) || bytes.Length != MerkleHash.Size)
            {
                return Refuse("the inclusion proof is malformed");
            }

            proof.Add(bytes);
        }

        if (!LeafHeader.Commit(salt, record).AsSpan().SequenceEqual(commitment))
        {
            return Refuse("the record does not match the leaf's commitment: it was altered");
        }

        ConsentRecord parsed;
        try
        {
            parsed = ConsentRecords.Read(record);
        }
        catch (Exception e) when (e is JsonException or FormatException or NotSupportedException)
        {
            return Refuse("the record is not a consent record");
        }

        if (parsed.RecordId != receipt.Leaf.EventId)
        {
            return Refuse("the record's id is not the leaf's event id");
        }

        var check = AttestationVerifier.Verify(receipt.Checkpoint, keys, CheckpointStatement.Type, CheckpointStatement.SignedAtOf);
        if (!check.Valid || check.Payload is null)
        {
            return Refuse("the checkpoint's signature does not verify: " + check.Refusal);
        }

        var statement = CheckpointStatement.Parse(check.Payload);
        if (statement is null || statement.TreeSize != receipt.InclusionProof.TreeSize)
        {
            return Refuse("the checkpoint does not sign the tree size the proof is for");
        }

        var leafHash = new LeafHeader(receipt.Leaf.Index, receipt.Leaf.EventId, appendedAt, commitment).LeafHash();
        if (!MerkleTree.VerifyInclusion(receipt.Leaf.Index, statement.TreeSize, leafHash, proof, statement.Root))
        {
            return Refuse("the inclusion proof does not lead to the checkpoint's root");
        }

        return new ReceiptCheck(true, null, parsed, statement.TreeSize, check.KeyId, statement.Time);
    }

    private static ReceiptCheck Refuse(string reason) => new(false, reason, null, null, null, null);

    private static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length > MaxReceiptBytes || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        try
        {
            bytes = Base64UrlEncoder.DecodeBytes(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
