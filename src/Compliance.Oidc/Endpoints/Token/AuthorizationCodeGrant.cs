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
/// client and the exact redirect URI, PKCE S256 verified.
/// </summary>
internal sealed partial class AuthorizationCodeGrant(
    ComplianceDbContext db,
    TokenResponses responses,
    GrantRevocation revocation,
    IConsentDecisions consents,
    TimeProvider time,
    ILogger<AuthorizationCodeGrant> logger)
{
    public async Task<Dictionary<string, object>> HandleAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        var code = parameters["code"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "code is missing.");
        var verifier = parameters["code_verifier"] ?? throw new OAuthException(OAuthErrors.InvalidRequest, "code_verifier is missing (PKCE is required).");
        if (!VerifierPattern().IsMatch(verifier))
        {
            throw new OAuthException(OAuthErrors.InvalidRequest, "code_verifier must be 43 to 128 unreserved characters.");
        }

        var hash = TokenHashes.Of(code);
        var now = time.GetUtcNow();

        // The conditional update is the single-use guarantee, across requests and nodes.
        var claimed = await db.Set<AuthorizationCode>()
            .Where(c => c.CodeHash == hash && c.ConsumedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ConsumedAt, now), cancellationToken);
        var stored = await db.Set<AuthorizationCode>().AsNoTracking().FirstOrDefaultAsync(c => c.CodeHash == hash, cancellationToken);
        if (stored is null)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "The code is invalid.");
        }

        if (claimed == 0)
        {
            if (stored.ClientId == client.ClientId)
            {
                var revoked = await revocation.RevokeFamilyAsync(stored.IssuanceId, cancellationToken);
                OidcLog.CodeReplayed(logger, client.ClientId, revoked);
            }

            throw new OAuthException(OAuthErrors.InvalidGrant, "The code was already used; the tokens issued from it are revoked.");
        }

        if (stored.ClientId != client.ClientId)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "The code was issued to another client.");
        }

        if (stored.ExpiresAt <= now)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "The code has expired.");
        }

        if (parameters["redirect_uri"] != stored.RedirectUri)
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "redirect_uri does not match the authorization request.");
        }

        if (!TokenResponses.VerifierMatches(verifier, stored.CodeChallenge))
        {
            throw new OAuthException(OAuthErrors.InvalidGrant, "code_verifier does not match the code_challenge.");
        }

        // Consent withdrawn between the code and its exchange: the code is worthless.
        if (client.RequireConsent)
        {
            var allowed = await consents.AllowedScopesAsync(stored.SubjectId, client.ClientId, cancellationToken);
            if (!stored.Scope.Split(' ').All(allowed.Contains))
            {
                throw new OAuthException(OAuthErrors.InvalidGrant, "The consent behind this code was withdrawn.");
            }
        }

        var grant = new UserGrant(
            stored.SubjectId,
            stored.Scope,
            stored.SessionId,
            stored.AuthTime,
            stored.Acr,
            stored.Amr.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            stored.IssuanceId,
            stored.Nonce,
            RefreshAbsoluteExpiry: null);
        return await responses.ForUserAsync(client, grant, includeIdToken: true, cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex VerifierPattern();
}
