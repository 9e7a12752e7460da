namespace Compliance.Oidc.Clients;

/// <summary>A partner as the consent ledger names it: the controller of what it receives.</summary>
/// <param name="ClientId">Its client id.</param>
/// <param name="DisplayName">The name patients see.</param>
/// <param name="Sector">The pairwise sector its <c>sub</c>s are computed for.</param>
/// <param name="ControllerName">Its legal name as controller, when registered.</param>
/// <param name="DpoContact">Its DPO's contact (<c>mailto:</c> or https), when registered.</param>
/// <param name="NoticeUrl">Its privacy notice, when registered.</param>
/// <param name="WebhookUrl">Where it receives consent events (signed SETs), when registered.</param>
/// <param name="Kind">A <see cref="ClientKinds"/> value: a payer never receives a care or special-category purpose.</param>
public sealed record Partner(
    string ClientId, string DisplayName, string Sector, string? ControllerName, string? DpoContact, string? NoticeUrl, string? WebhookUrl = null, string Kind = ClientKinds.Partner)
{
    public bool IsPayer => Kind == ClientKinds.Payer;

    /// <summary>
    /// Whether nothing about <paramref name="purposeId"/> may reach this partner: a payer, and a care or special-category
    /// purpose under the policies in force (which may have reclassified it since an event was written). A host without
    /// policies declares no purpose, so it has none to withhold.
    /// </summary>
    public bool MustNotLearnOf(string purposeId, Compliance.Policies.PolicySet? policies) =>
        IsPayer && policies?.FindPurpose(purposeId) is { ForbiddenToPayers: true };
}

/// <summary>The partners (registered, not removed clients), for modules other than the OpenID provider.</summary>
public interface IPartnerDirectory
{
    /// <summary>The partner with this client id, or null when there is none (or it was removed).</summary>
    ValueTask<Partner?> FindAsync(string clientId, CancellationToken cancellationToken);
}

internal sealed class PartnerDirectory(ClientRegistry clients) : IPartnerDirectory
{
    public async ValueTask<Partner?> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        var client = await clients.FindAsync(clientId, cancellationToken);
        return client is null ? null : PartnerOf(client);
    }

    internal static Partner PartnerOf(Client client) =>
        new(client.ClientId, client.DisplayName, client.Sector, client.ControllerName, client.DpoContact, client.NoticeUrl, client.WebhookUrl, client.Kind);
}
