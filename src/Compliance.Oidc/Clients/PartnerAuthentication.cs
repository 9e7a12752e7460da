using Compliance.Oidc.Protocol;
using Compliance.Oidc.Tokens;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Clients;

/// <summary>
/// Authenticates the partner calling a partner API (consent checks, partner-recorded consent, its event feed): HTTP
/// Basic with its client secret (a <c>client_secret_basic</c> client), or a bearer access token it obtained for itself
/// by <c>client_credentials</c> (any confidential client, so that a <c>private_key_jwt</c> partner signs once per token
/// and not per call). A user-bound token never authenticates a partner: it speaks for a patient, not for the partner.
/// </summary>
public interface IPartnerAuthentication
{
    /// <summary>The calling partner, or null when the request carries no valid credentials (answer 401).</summary>
    Task<Partner?> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken);
}

internal sealed class PartnerAuthentication(ClientAuthenticator authenticator, AccessTokenValidator accessTokens, ClientRegistry clients) : IPartnerAuthentication
{
    private static readonly ProtocolParameters NoParameters = ProtocolParameters.FromPairs([]);

    public async Task<Partner?> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { Length: > 0 } value)
        {
            return null;
        }

        Client? client;
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = await accessTokens.ValidateAsync(value["Bearer ".Length..].Trim(), cancellationToken);
            client = token is { IsMachineToken: true } ? await clients.FindAsync(token.ClientId, cancellationToken) : null;
        }
        else
        {
            try
            {
                // Basic only: the body of a partner API call is its own, never client-authentication parameters.
                client = await authenticator.AuthenticateAsync(request, NoParameters, request.Path, cancellationToken);
            }
            catch (OAuthException)
            {
                return null;
            }
        }

        return client is null || client.IsPublic ? null : PartnerDirectory.PartnerOf(client);
    }
}
