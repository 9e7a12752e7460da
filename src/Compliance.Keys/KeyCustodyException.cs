namespace Compliance.Keys;

/// <summary>
/// Key custody cannot do what was asked: an unknown key-encryption key, altered wrapped bytes, an unreadable key
/// file. Its message names keys by id and files by path, and never carries key material or wrapped bytes.
/// </summary>
public sealed class KeyCustodyException : Exception
{
    public KeyCustodyException()
        : base("Key custody failed.")
    {
    }

    public KeyCustodyException(string message)
        : base(message)
    {
    }

    public KeyCustodyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
