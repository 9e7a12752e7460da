namespace Compliance.Consent.Ledger;

/// <summary>
/// The states of a consent record in the W3C Data Privacy Vocabulary (<c>dpv:ConsentStatus</c>). Only
/// <see cref="Given"/> and <see cref="RenewedGiven"/> allow processing.
/// </summary>
public enum ConsentState
{
    Requested,
    Given,
    Refused,
    RenewedGiven,
    Withdrawn,
    Revoked,
    Expired,
    Invalidated,
}

/// <summary>Names and rules of <see cref="ConsentState"/>.</summary>
public static class ConsentStates
{
    /// <summary>The DPV concept, e.g. <c>dpv:ConsentGiven</c>, as records and receipts name it.</summary>
    public static string Dpv(ConsentState state) => state switch
    {
        ConsentState.Requested => "dpv:ConsentRequested",
        ConsentState.Given => "dpv:ConsentGiven",
        ConsentState.Refused => "dpv:ConsentRefused",
        ConsentState.RenewedGiven => "dpv:RenewedConsentGiven",
        ConsentState.Withdrawn => "dpv:ConsentWithdrawn",
        ConsentState.Revoked => "dpv:ConsentRevoked",
        ConsentState.Expired => "dpv:ConsentExpired",
        ConsentState.Invalidated => "dpv:ConsentInvalidated",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a consent state."),
    };

    /// <summary>Only a given (or renewed) consent allows processing.</summary>
    public static bool AllowsProcessing(ConsentState state) => state is ConsentState.Given or ConsentState.RenewedGiven;

    /// <summary>The stored name (the enum's name), stable: never rename a member.</summary>
    public static string Name(ConsentState state) => state.ToString();

    public static ConsentState Parse(string name) => Enum.TryParse<ConsentState>(name, ignoreCase: false, out var state) && Enum.IsDefined(state)
        ? state
        : throw new FormatException($"'{name}' is not a consent state.");
}
