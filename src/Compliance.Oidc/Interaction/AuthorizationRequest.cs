namespace Compliance.Oidc.Interaction;

/// <summary>A validated authorization request, carried through sign-in and consent in a protected interaction token.</summary>
internal sealed record AuthorizationRequest(
    string ClientId,
    string RedirectUri,
    IReadOnlyList<string> Scopes,
    string? State,
    string? Nonce,
    string CodeChallenge,
    IReadOnlyList<string> Prompt,
    int? MaxAge,
    IReadOnlyList<string> AcrValues,
    DateTimeOffset ReceivedAt)
{
    /// <summary>Set once <c>prompt=login</c> has sent the patient to the sign-in page.</summary>
    public bool LoginPrompted { get; init; }

    /// <summary>The session present when <c>prompt=login</c> was honoured: it does not count as the new sign-in.</summary>
    public string? SessionBeforeLogin { get; init; }

    public bool Prompts(string value) => Prompt.Contains(value, StringComparer.Ordinal);
}
