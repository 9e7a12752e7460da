using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// <c>grant_type=refresh_token</c>: each refresh token is exchanged once for a new one (rotation). Presenting a used
/// one again means it leaked: the whole family is revoked (RFC 9700 §4.14.2). The request is validated before the
/// token is consumed, so a bad <c>scope</c> does not burn it. A narrowed <c>scope</c> applies to the new access token
/// only; the rotated refresh token keeps the original grant (RFC 6749 §6).
/// </summary>
internal sealed class RefreshTokenGrant(
    ComplianceDbContext db,
    TokenResponses responses,
    GrantRevocation revocation,
    IConsentDecisions consents,
    TimeProvider time,
    ILogger<RefreshTokenGrant> logger,
    Compliance.Policies.PolicySet? policies = null)
{
    public Task<Dictionary<string, object>> HandleAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken) =>
        OneConnection.RunAsync(db.Database, () => HandleOnOpenConnectionAsync(client, parameters, cancellationToken), cancellationToken);

    private async Task<Dictionary<string, object>> HandleOnOpenConnectionAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        var token = parameters["refresh_token"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "refresh_token is missing.");
        var requested = parameters.List("scope");
        var hash = TokenHashes.Of(token);
        var now = time.GetUtcNow();
        var found = await FindToken.For(db)(db, hash, client.ClientId, cancellationToken);
        var stored = found?.Row;
        if (stored is null || stored.RevokedAt is not null)
        {
            throw Refused();
        }

        if (stored.ConsumedAt is null)
        {
            if (stored.ExpiresAt <= now || stored.AbsoluteExpiresAt <= now)
            {
                throw Refused();
            }

            var granted = stored.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (requested.Any(s => !granted.Contains(s, StringComparer.Ordinal)))
            {
                throw new OAuthException(OAuthErrors.InvalidScope, "A refresh cannot widen the scope.");
            }

            if (granted.Any(s => !client.MayBeGranted(s, policies)))
            {
                // A policy change made one of a payer's scopes a care or special-category purpose's: nothing more rests on it.
                await revocation.RevokeFamilyAsync(stored.FamilyId, cancellationToken);
                throw new OAuthException(OAuthErrors.InvalidGrant, "This refresh token's scope is no longer granted to this client.");
            }

            if (client.RequireConsent && !granted.All((await StandingConsent.ScopesAsync(consents, found!.StandingScopes, stored.SubjectId, client.ClientId, cancellationToken)).Contains))
            {
                await revocation.RevokeFamilyAsync(stored.FamilyId, cancellationToken);
                throw new OAuthException(OAuthErrors.InvalidGrant, "The consent behind this refresh token was withdrawn.");
            }

            var grant = new UserGrant(
                stored.SubjectId,
                requested.Count > 0 ? string.Join(' ', requested) : stored.Scope,
                stored.Scope,
                stored.SessionId,
                stored.AuthTime,
                stored.Acr,
                stored.Amr.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                stored.FamilyId,
                Nonce: null,
                RefreshAbsoluteExpiry: stored.AbsoluteExpiresAt);
            var prepared = await responses.ForUserAsync(client, grant, includeIdToken: true, cancellationToken);
            var outcome = await responses.CommitIntoFamilyAsync(IssuanceClaim.Refresh(hash, client.ClientId, now), stored.FamilyId, prepared, cancellationToken);
            if (outcome == IssueOutcome.Issued)
            {
                return prepared.Response;
            }

            if (outcome == IssueOutcome.FamilyRevoked)
            {
                throw Refused();
            }
        }

        // Reused, or raced by a concurrent use of the same token: the winner has committed by now (its claim held the
        // row), so its new tokens are revoked with the rest of the family.
        var revoked = await revocation.RevokeFamilyAsync(stored.FamilyId, cancellationToken);
        OidcLog.RefreshReused(logger, client.ClientId, revoked);
        throw Refused();
    }

    /// <summary>The token and the standing consent it rests on, read in one round trip (see <see cref="StandingConsent"/>).</summary>
    private static readonly CompiledQueries<Func<ComplianceDbContext, string, string, CancellationToken, Task<WithStandingConsent<RefreshToken>?>>> FindToken =
        new(() => EF.CompileAsyncQuery((ComplianceDbContext db, string hash, string clientId, CancellationToken _) =>
            db.Set<RefreshToken>().AsNoTracking()
                .Where(t => t.TokenHash == hash && t.ClientId == clientId)
                .Select(t => new WithStandingConsent<RefreshToken>(
                    t,
                    db.Set<ConsentGrant>().Where(g => g.SubjectId == t.SubjectId && g.ClientId == t.ClientId && g.RevokedAt == null).Select(g => g.Scopes).ToList()))
                .FirstOrDefault()));

    private static OAuthException Refused() =>
        new(OAuthErrors.InvalidGrant, "The refresh token is invalid, expired, already used or revoked.");
}
