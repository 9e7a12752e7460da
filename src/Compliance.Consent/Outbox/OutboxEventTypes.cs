using Compliance.Consent.Ledger;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The events a partner learns of (GDPR Art. 19): their stable names, as the pull feed and the operators' list show
/// them, and the URI that names each in a Security Event Token's <c>events</c> claim (RFC 8417 §2.2). Never rename one.
/// </summary>
public static class OutboxEventTypes
{
    public const string ConsentGiven = "consent.given";
    public const string ConsentWithdrawn = "consent.withdrawn";
    public const string ConsentExpired = "consent.expired";
    public const string ConsentInvalidated = "consent.invalidated";

    /// <summary>
    /// The patient's identity was rectified in the vault (Art. 16 and 19): the partner should fetch it again. Declared
    /// for the vault's notices; nothing produces it yet.
    /// </summary>
    public const string IdentityRectified = "identity.rectified";

    /// <summary>The prefix of the event URIs: <c>urn:compliance:event:consent.withdrawn</c>.</summary>
    public const string UriPrefix = "urn:compliance:event:";

    public static IReadOnlyList<string> All { get; } = [ConsentGiven, ConsentWithdrawn, ConsentExpired, ConsentInvalidated, IdentityRectified];

    /// <summary>The event URI of a type name, as the SET's <c>events</c> claim keys it.</summary>
    public static string Uri(string type) => UriPrefix + type;

    /// <summary>
    /// The event a partner learns of when a consent moves to <paramref name="state"/>, or null for a state it is not
    /// told of (a request, a refusal: nothing was shared, nothing changes for it).
    /// </summary>
    public static string? For(ConsentState state) => state switch
    {
        ConsentState.Given or ConsentState.RenewedGiven => ConsentGiven,
        ConsentState.Withdrawn or ConsentState.Revoked => ConsentWithdrawn,
        ConsentState.Expired => ConsentExpired,
        ConsentState.Invalidated => ConsentInvalidated,
        _ => null,
    };
}
