using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The HTTP client of webhook deliveries. Its connections are opened by <see cref="PartnerConnections"/>, which
/// resolves the host itself and refuses a private, loopback or link-local address. No redirect is followed, no proxy
/// is used, no cookie is kept.
/// </summary>
internal static class WebhookHttp
{
    public const string ClientName = "compliance-webhook";

    public static IServiceCollection AddWebhookHttp(this IServiceCollection services)
    {
        services.AddHttpClient(ClientName, (provider, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<OutboxOptions>>().Value.TimeoutSeconds);
                client.MaxResponseContentBufferSize = 64 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
                PartnerConnections.Handler(provider.GetRequiredService<IOptions<OidcOptions>>().Value.AllowLoopbackHttpFetch));
        return services;
    }
}
