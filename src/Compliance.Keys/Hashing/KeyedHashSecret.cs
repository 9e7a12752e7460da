namespace Compliance.Keys.Hashing;

/// <summary>The secret of one keyed-hash purpose, wrapped by the KEK. Created once, never updated.</summary>
internal sealed class KeyedHashSecret
{
    /// <summary>The purpose, for example <c>pairwise-subject</c>.</summary>
    public required string Purpose { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The id of the key-encryption key that wrapped <see cref="WrappedSecret"/>.</summary>
    public required string KekId { get; set; }

    public required string KekAlgorithm { get; set; }

    /// <summary>The 256-bit secret, sealed to its purpose and wrapped by the KEK.</summary>
    public required byte[] WrappedSecret { get; set; }
}
