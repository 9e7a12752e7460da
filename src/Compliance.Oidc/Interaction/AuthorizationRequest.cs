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
    public bool Prompts(string value) => Prompt.Contains(value, StringComparer.Ordinal);
}
