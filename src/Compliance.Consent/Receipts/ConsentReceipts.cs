using System.Globalization;
using System.Text.Json;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Receipts;

/// <summary>Builds a subject's receipts.</summary>
public interface IConsentReceipts
{
    /// <summary>
    /// The receipt of one of the subject's events, as UTF-8 JSON; null when the event is not theirs, was redacted, or
    /// no checkpoint can cover it.
    /// </summary>
    Task<byte[]?> ForSubjectAsync(Guid subjectId, Guid eventId, CancellationToken cancellationToken);
}

internal sealed class ConsentReceipts(ComplianceDbContext db, ILedgerCheckpoints checkpoints, LedgerCheckpoints names) : IConsentReceipts
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public async Task<byte[]?> ForSubjectAsync(Guid subjectId, Guid eventId, CancellationToken cancellationToken)
    {
        var mine = await db.Set<ConsentSubjectEvent>().AsNoTracking().AnyAsync(e => e.EventId == eventId && e.SubjectId == subjectId, cancellationToken);
        var leaf = mine ? await db.Set<ConsentLeaf>().AsNoTracking().FirstOrDefaultAsync(l => l.EventId == eventId, cancellationToken) : null;
        var payload = leaf is null ? null : await db.Set<ConsentPayload>().AsNoTracking().FirstOrDefaultAsync(p => p.EventId == eventId, cancellationToken);
        if (leaf is null || payload?.Payload is null || payload.Salt is null)
        {
            return null;
        }

        var checkpoint = await checkpoints.CoveringAsync(leaf.LeafIndex, cancellationToken);
        var proof = checkpoint is null ? null : await checkpoints.InclusionProofAsync(leaf.LeafIndex, checkpoint.TreeSize, cancellationToken);
        if (checkpoint is null || proof is null)
        {
            return null;
        }

        var receipt = new ConsentReceipt(
            ConsentReceipt.Version,
            Kantara(ConsentRecords.Read(payload.Payload)),
            Base64UrlEncoder.Encode(payload.Payload),
            Base64UrlEncoder.Encode(payload.Salt),
            new ReceiptLeaf(leaf.LeafIndex, leaf.EventId, Rfc3339(leaf.AppendedAt), Base64UrlEncoder.Encode(leaf.PayloadCommitment)),
            new ReceiptProof(checkpoint.TreeSize, [.. proof.Select(Base64UrlEncoder.Encode)]),
            checkpoint.Jws,
            names.LogName + "/keys");
        return JsonSerializer.SerializeToUtf8Bytes(receipt, Json);
    }

    public static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseRfc3339(string text) => DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture,
        DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    private static KantaraReceipt Kantara(ConsentRecord record) => new(
        "KI-CR-v1.1.0",
        "FR",
        record.OccurredAt.ToUnixTimeSeconds(),
        record.Method,
        record.RecordId.ToString(),
        record.Language,
        record.DataSubject.Id,
        [new KantaraController(record.Controller.Name, record.Controller.DpoContact, record.Controller.NoticeUrl, OnBehalf: false)],
        record.Notice?.Url ?? record.Controller.NoticeUrl,
        [new KantaraService(record.Controller.Name, [new KantaraPurpose(
            record.Purpose.Id,
            record.Purpose.Dpv is null ? [] : [record.Purpose.Dpv],
            "EXPLICIT",
            [.. record.Purpose.DataCategories.Select(c => c.Id)],
            PrimaryPurpose: true,
            record.Withdrawal.Url,
            ThirdPartyDisclosure: false,
            record.State)])],
        record.Purpose.DataCategories.Any(c => c.SpecialCategory),
        [.. record.Purpose.DataCategories.Where(c => c.SpecialCategory).Select(c => c.Id)]);
}
