using System.Text.RegularExpressions;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// <c>grant_type=authorization_code</c>: single use (a replay revokes everything issued from the code), bound to the
/// client and the exact redirect URI, PKCE S256 verified. Every refusal is the same <c>invalid_grant</c>, so that a
/// client learns nothing about another client's codes, and a code is only consumed once everything else checks out.
/// The claim, the family check and the token records commit together: a replay that loses the race finds the
/// winner's tokens and revokes them.
/// </summary>
internal sealed partial class AuthorizationCodeGrant(
    ComplianceDbContext db,
    TokenResponses responses,
    GrantRevocation revocation,
    IConsentDecisions consents,
    TimeProvider time,
    ILogger<AuthorizationCodeGrant> logger,
    Compliance.Policies.PolicySet? policies = null)
{
    public Task<Dictionary<string, object>> HandleAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken) =>
        OneConnection.RunAsync(db.Database, () => HandleOnOpenConnectionAsync(client, parameters, cancellationToken), cancellationToken);

    private async Task<Dictionary<string, object>> HandleOnOpenConnectionAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        var code = parameters["code"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "code is missing.");
        var verifier = parameters["code_verifier"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "code_verifier is missing (PKCE is required).");
        if (!VerifierPattern().IsMatch(verifier))
        {
            throw new OAuthException(OAuthErrors.InvalidRequest, "code_verifier must be 43 to 128 unreserved characters.");
        }

        var hash = TokenHashes.Of(code);
        var now = time.GetUtcNow();

        // Another client's code is indistinguishable from an unknown one, and is left untouched.
        var found = await FindCode.For(db)(db, hash, client.ClientId, cancellationToken);
        var stored = found?.Row;
        if (stored is null || stored.ExpiresAt <= now || parameters["redirect_uri"] != stored.RedirectUri
            || !TokenResponses.VerifierMatches(verifier, stored.CodeChallenge))
        {
            throw Refused();
        }

        if (stored.ConsumedAt is null)
        {
            // The consent behind the code was withdrawn since: the code is worthless (and the withdrawal revoked its family).
            if (client.RequireConsent && !ConsentCovers(await StandingConsent.ScopesAsync(consents, found!.StandingScopes, stored.SubjectId, client.ClientId, cancellationToken), stored.Scope))
            {
                throw Refused();
            }

            // A payer's code asked for before a policy change made one of its scopes a care or special-category purpose's.
            // (Payers only: no other client splits its scope again on this hot path.)
            if (client.IsPayer && stored.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(s => !client.MayBeGranted(s, policies)))
            {
                throw Refused();
            }

            var grant = new UserGrant(
                stored.SubjectId,
                stored.Scope,
                stored.Scope,
                stored.SessionId,
                stored.AuthTime,
                stored.Acr,
                stored.Amr.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                stored.IssuanceId,
                stored.Nonce,
                RefreshAbsoluteExpiry: null);
            var prepared = await responses.ForUserAsync(client, grant, includeIdToken: true, cancellationToken);

            // The conditional update is the single-use guarantee, across requests and nodes.
            var outcome = await responses.CommitIntoFamilyAsync(IssuanceClaim.Code(hash, client.ClientId, now), stored.IssuanceId, prepared, cancellationToken);
            if (outcome == IssueOutcome.Issued)
            {
                return prepared.Response;
            }

            if (outcome == IssueOutcome.FamilyRevoked)
            {
                throw Refused();
            }
        }

        // A replay, or the loser of a race: the winner has committed (its claim held the row until then), so its
        // tokens are found and revoked.
        var revoked = await revocation.RevokeFamilyAsync(stored.IssuanceId, cancellationToken);
        OidcLog.CodeReplayed(logger, client.ClientId, revoked);
        throw Refused();
    }

    /// <summary>The code and the standing consent it rests on, read in one round trip (see <see cref="StandingConsent"/>).</summary>
    private static readonly CompiledQueries<Func<ComplianceDbContext, string, string, CancellationToken, Task<WithStandingConsent<AuthorizationCode>?>>> FindCode =
        new(() => EF.CompileAsyncQuery((ComplianceDbContext db, string hash, string clientId, CancellationToken _) =>
            db.Set<AuthorizationCode>().AsNoTracking()
                .Where(c => c.CodeHash == hash && c.ClientId == clientId)
                .Select(c => new WithStandingConsent<AuthorizationCode>(
                    c,
                    db.Set<ConsentGrant>().Where(g => g.SubjectId == c.SubjectId && g.ClientId == c.ClientId && g.RevokedAt == null).Select(g => g.Scopes).ToList()))
                .FirstOrDefault()));

    private static bool ConsentCovers(IReadOnlySet<string> allowed, string scope) =>
        scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(allowed.Contains);

    private static OAuthException Refused() =>
        new(OAuthErrors.InvalidGrant, "The code is invalid, expired, already used, or was not issued to this client for this redirect_uri and code_verifier.");

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex VerifierPattern();
}
