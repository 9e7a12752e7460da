using System.Security.Cryptography;

namespace Compliance.Keys.Hashing;

/// <summary>
/// HMAC-SHA256 under one purpose's secret, keyed once per thread, for callers that hash many values in a row (the
/// ledger's verification seals every leaf). <see cref="IKeyedHash.ComputeAsync"/> redoes the HMAC key schedule on
/// every call, which halves the rate. The secret never leaves this object, which zeroes its copy when disposed.
/// Safe to use from several threads at once; dispose it when the work is done.
/// </summary>
public sealed class KeyedHasher : IDisposable
{
    private readonly byte[] _secret;
    private readonly ThreadLocal<IncrementalHash> _hmac;
    private bool _disposed;

    internal KeyedHasher(ReadOnlySpan<byte> secret)
    {
        _secret = secret.ToArray();
        _hmac = new(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret), trackAllValues: true);
    }

    /// <summary>The same 32 bytes <see cref="IKeyedHash.ComputeAsync"/> gives for this purpose and data.</summary>
    public byte[] Compute(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var hmac = _hmac.Value!;
        hmac.AppendData(data);
        return hmac.GetHashAndReset();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
    }
}
