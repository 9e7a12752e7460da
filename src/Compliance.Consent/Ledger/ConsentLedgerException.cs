namespace Compliance.Consent.Ledger;

/// <summary>
/// A consent event or ledger operation refused, with a stable code (for <c>problem+json</c> and the CLI) and a
/// one-line message that names no personal data.
/// </summary>
public sealed class ConsentLedgerException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Stable, e.g. <c>unknown_purpose</c>, <c>ledger_behind_checkpoint</c>.</summary>
    public string Code { get; } = code;
}
