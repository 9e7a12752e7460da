using Compliance.Oidc.Clients;
using Compliance.Oidc.Protocol;
using Compliance.Policies;

namespace Compliance.Oidc.Endpoints.Token;

/// <summary><c>grant_type=client_credentials</c>: a confidential client acting for itself; <c>sub</c> is its client id (RFC 9068 §2.2).</summary>
internal sealed class ClientCredentialsGrant(TokenResponses responses, PolicySet? policies = null)
{
    private static readonly HashSet<string> UserScopes = new(StringComparer.Ordinal) { "openid", "offline_access" };

    public async Task<Dictionary<string, object>> HandleAsync(Client client, ProtocolParameters parameters, CancellationToken cancellationToken)
    {
        if (client.IsPublic)
        {
            throw new OAuthException(OAuthErrors.UnauthorizedClient, "A public client cannot use client_credentials.");
        }

        var requested = parameters.List("scope");
        if (requested.Any(s => UserScopes.Contains(s) || !client.ScopeList.Contains(s, StringComparer.Ordinal) || !client.MayBeGranted(s, policies)))
        {
            throw new OAuthException(OAuthErrors.InvalidScope, "The scope is unknown, user-bound, or not allowed for this client.");
        }

        return await responses.ForClientAsync(client, string.Join(' ', requested), cancellationToken);
    }
}
