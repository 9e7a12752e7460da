using System.Security.Cryptography;
using System.Text;
using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary>
/// What a user-bound grant hands to the response: the subject, the scope of this access token, the scope granted to
/// the family (kept by the rotated refresh token), and where it came from. <c>SessionId</c> is the internal session
/// id; partners only ever see its pairwise form.
/// </summary>
internal sealed record UserGrant(
    Guid SubjectId,
    string Scope,
    string GrantedScope,
    string SessionId,
    DateTimeOffset AuthTime,
    string Acr,
    IReadOnlyList<string> Amr,
    Guid FamilyId,
    string? Nonce,
    DateTimeOffset? RefreshAbsoluteExpiry);

/// <summary>A signed token response and the records that must be written before it is sent.</summary>
internal sealed record PreparedIssuance(Dictionary<string, object> Response, IssuedToken Access, RefreshToken? Refresh);

/// <summary>How a commit into a family ended.</summary>
internal enum IssueOutcome
{
    Issued,

    /// <summary>The code or refresh token was consumed by another request first.</summary>
    ClaimLost,

    /// <summary>The family was revoked (a replay, a withdrawal, a removed client).</summary>
    FamilyRevoked,
}

/// <summary>Builds token responses: access token (recorded for introspection and revocation), ID token, rotated refresh token.</summary>
internal sealed class TokenResponses(
    TokenIssuer issuer, IPairwiseSubjects subjects, PairwiseSessions sessions, ComplianceDbContext db, IssuanceBatches batches, TimeProvider time)
{
    /// <summary>
    /// Writes the tokens that <see cref="ForUserAsync"/> prepared, atomically with the claim they rest on and under the
    /// condition that their family is not revoked (see <see cref="IssuanceCommit"/>). Signing and pairwise identifiers
    /// were computed before, outside any lock.
    /// </summary>
    public Task<IssueOutcome> CommitIntoFamilyAsync(IssuanceClaim claim, Guid familyId, PreparedIssuance prepared, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(prepared);
        return IssuanceCommit.OnSqlite(db)
            ? batches.CommitAsync(IssuanceCommit.ForSqlite(db, claim, familyId, prepared.Access, prepared.Refresh))
            : IssuanceCommit.PostgresAsync(db, claim, familyId, prepared.Access, prepared.Refresh, cancellationToken);
    }

    /// <summary>
    /// Signs the tokens of a user-bound grant and prepares their records; nothing is written until
    /// <see cref="CommitIntoFamilyAsync"/>.
    /// </summary>
    public async Task<PreparedIssuance> ForUserAsync(Client client, UserGrant grant, bool includeIdToken, CancellationToken cancellationToken)
    {
        var sub = await subjects.SubjectForAsync(grant.SubjectId, client.Sector, cancellationToken);
        var sid = await sessions.SessionForAsync(grant.SessionId, client.Sector, cancellationToken);
        var subject = new TokenSubject(sub, grant.SubjectId, grant.AuthTime, grant.Acr, grant.Amr, sid);
        var (accessToken, tokenId, expiresAt) = await issuer.CreateAccessTokenAsync(client.ClientId, subject, grant.Scope, client.AccessTokenLifetimeSeconds, cancellationToken);
        var access = new IssuedToken { TokenId = tokenId, FamilyId = grant.FamilyId, ClientId = client.ClientId, SubjectId = grant.SubjectId, ExpiresAt = expiresAt };
        RefreshToken? refreshRecord = null;

        var response = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = client.AccessTokenLifetimeSeconds,
            ["scope"] = grant.Scope,
        };

        // OpenID Connect Core §11: a refresh token only for a consented offline_access.
        if (client.Allows("refresh_token") && grant.GrantedScope.Split(' ').Contains("offline_access"))
        {
            var refresh = TokenIssuer.NewOpaque();
            var now = time.GetUtcNow();
            var absolute = grant.RefreshAbsoluteExpiry ?? now.AddSeconds(client.RefreshTokenAbsoluteLifetimeSeconds);
            var sliding = now.AddSeconds(client.RefreshTokenSlidingLifetimeSeconds);
            refreshRecord = new RefreshToken
            {
                TokenHash = TokenHashes.Of(refresh),
                FamilyId = grant.FamilyId,
                ClientId = client.ClientId,
                SubjectId = grant.SubjectId,
                Scope = grant.GrantedScope,
                SessionId = grant.SessionId,
                AuthTime = grant.AuthTime,
                Acr = grant.Acr,
                Amr = string.Join(' ', grant.Amr),
                CreatedAt = now,
                ExpiresAt = sliding < absolute ? sliding : absolute,
                AbsoluteExpiresAt = absolute,
            };
            response["refresh_token"] = refresh;
        }

        if (includeIdToken && grant.Scope.Split(' ').Contains("openid"))
        {
            var idToken = await issuer.CreateIdTokenAsync(client.ClientId, client.IdTokenSignedResponseAlg, subject, grant.Nonce, client.IdTokenLifetimeSeconds, cancellationToken);
            response["id_token"] = idToken;
        }

        return new PreparedIssuance(response, access, refreshRecord);
    }

    public async Task<Dictionary<string, object>> ForClientAsync(Client client, string scope, CancellationToken cancellationToken)
    {
        var subject = new TokenSubject(client.ClientId, null, null, null, [], null);
        // A machine token rests on no patient's consent, so nothing has to reach it in bulk: it is not recorded at
        // issuance (no write on the hot path). It dies with its 5-minute lifetime or its client, and revoking it
        // records it then (see AccessTokenValidator).
        var (accessToken, _, _) = await issuer.CreateAccessTokenAsync(client.ClientId, subject, scope, client.AccessTokenLifetimeSeconds, cancellationToken);
        var response = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = client.AccessTokenLifetimeSeconds,
        };
        if (scope.Length > 0)
        {
            response["scope"] = scope;
        }

        return response;
    }

    /// <summary>RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in fixed time.</summary>
    public static bool VerifierMatches(string verifier, string challenge)
    {
        var computed = Encoding.ASCII.GetBytes(Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge));
    }
}
