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

    /// <summary>That session's auth_time then.</summary>
    public DateTimeOffset? AuthTimeBeforeLogin { get; init; }

    /// <summary>
    /// An exceeded <c>max_age</c> sent a patient with a second factor to the step-up: the same session, authenticated
    /// again since <see cref="AuthTimeBeforeLogin"/>, then satisfies it. Never set for <c>prompt=login</c>.
    /// </summary>
    public bool FreshByStepUp { get; init; }

    /// <summary>On the consent stage: the session whose sign-in was checked before the consent page was shown.</summary>
    public string? ConsentSessionId { get; init; }

    /// <summary>The <c>id_token_hint</c> as received, until the flow has checked it and kept its subject.</summary>
    public string? IdTokenHint { get; init; }

    /// <summary>The pairwise <c>sub</c> of a valid <c>id_token_hint</c>: the patient the partner expects.</summary>
    public string? HintSubject { get; init; }

    /// <summary>The first of <c>ui_locales</c> the pages speak (<c>fr</c> or <c>en</c>): it wins over <c>Accept-Language</c>.</summary>
    public string? UiLocale { get; init; }

    public bool Prompts(string value) => Prompt.Contains(value, StringComparer.Ordinal);
}
