using Compliance.Keys;
using Compliance.Keys.Hashing;

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

    /// <summary>The seal of many leaves in a row (verification): keyed once per thread, disposed by the caller.</summary>
    public async ValueTask<BatchSeal> ForManyAsync(CancellationToken cancellationToken) =>
        new(await keyedHash.HasherAsync(KeyPurpose, cancellationToken));

    /// <summary>Seals with one <see cref="KeyedHasher"/>; never waits.</summary>
    public sealed class BatchSeal(KeyedHasher hasher) : Verification.ILeafSeal, IDisposable
    {
        public ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> leafHash, CancellationToken cancellationToken) =>
            ValueTask.FromResult(hasher.Compute(leafHash.Span));

        public void Dispose() => hasher.Dispose();
    }
}
