using Compliance.Keys;

namespace Compliance.Consent.Ledger;

/// <summary>
/// The seal of a leaf: HMAC-SHA256 over its leaf hash under a secret held in key custody. Whoever edits the tables
/// without the KEK can recompute every plain hash but cannot seal, so verification names each forged or moved row.
/// </summary>
internal sealed class LedgerSeal(IKeyedHash keyedHash)
{
    public const string KeyPurpose = "consent-ledger-seal";

    public ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken) =>
        keyedHash.ComputeAsync(KeyPurpose, leafHash, cancellationToken);
}
