namespace Compliance.Data.Migrations;

/// <summary>
/// The store's schema does not match this build and the host may not fix it by itself. The message says what to do;
/// it never contains a connection string.
/// </summary>
public sealed class SchemaNotReadyException : Exception
{
    public SchemaNotReadyException()
    {
    }

    public SchemaNotReadyException(string message)
        : base(message)
    {
    }

    public SchemaNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
