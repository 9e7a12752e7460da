using Compliance.Oidc.Grants;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>A code or refresh token read together with the scopes of the consent grants that stand behind it.</summary>
internal sealed record WithStandingConsent<T>(T Row, List<string> StandingScopes);

/// <summary>
/// The consent check of a code exchange or a refresh, without a round trip of its own. The grants read the standing
/// consent rows in the same query as the code or token (the rule is <see cref="ConsentGrants"/>'s: rows of the subject
/// and client that are not revoked). That read is only trusted while <see cref="ConsentGrants"/> is the registered
/// <see cref="IConsentDecisions"/>: once another implementation decorates or replaces it (the consent ledger), the
/// seam answers, as it always did, unless it narrows the grants it was read with (<see cref="IStandingConsentFilter"/>).
/// </summary>
internal static class StandingConsent
{
    public static async Task<IReadOnlySet<string>> ScopesAsync(
        IConsentDecisions consents, List<string> readWithTheCode, Guid subjectId, string clientId, CancellationToken cancellationToken)
    {
        return consents switch
        {
            ConsentGrants => ConsentGrants.ScopesOf(readWithTheCode),
            IStandingConsentFilter ledger => await ledger.FilterAsync(ConsentGrants.ScopesOf(readWithTheCode), subjectId, clientId, cancellationToken),
            _ => await consents.AllowedScopesAsync(subjectId, clientId, cancellationToken),
        };
    }
}
