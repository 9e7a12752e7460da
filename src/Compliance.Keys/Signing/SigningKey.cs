namespace Compliance.Keys.Signing;

/// <summary>
/// One token signing key in the compliance store. Keys of an algorithm form a chain of generations: a generation
/// signs from <see cref="ActivatesAt"/> until the next generation activates, then stays published for
/// <c>Keys:RetiredKeyPublishDays</c>, then is purged. Rows are inserted and deleted, never updated.
/// </summary>
internal sealed class SigningKey : IScheduledKey
{
    /// <summary>The <c>kid</c>: the RFC 7638 thumbprint of the public key, checked against the private key on load.</summary>
    public required string KeyId { get; set; }

    /// <summary><c>ES256</c> or <c>RS256</c>.</summary>
    public required string Algorithm { get; set; }

    /// <summary>0 for the first key of the algorithm; unique per algorithm, so two nodes cannot both add the same step.</summary>
    public int Generation { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the key starts signing. It is published from <see cref="CreatedAt"/>.</summary>
    public DateTimeOffset ActivatesAt { get; set; }

    /// <summary>The id of the key-encryption key that wrapped <see cref="WrappedPrivateKey"/>.</summary>
    public required string KekId { get; set; }

    public required string KekAlgorithm { get; set; }

    /// <summary>The PKCS#8 private key, sealed to this row (algorithm, generation, activation) and wrapped by the KEK.</summary>
    public required byte[] WrappedPrivateKey { get; set; }
}
