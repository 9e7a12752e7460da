using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Interaction;

/// <summary>
/// Seals an authorization request into an opaque, time-limited token for the sign-in and consent pages, so that no
/// node has to remember it and nobody can alter it on the way. Each stage has its own protector: a token sealed for
/// the sign-in page cannot be posted to the consent page, and a consent token names the session it was checked for.
/// </summary>
internal sealed class InteractionProtector(IDataProtectionProvider provider, IOptions<OidcOptions> options, TimeProvider time)
{
    private readonly ITimeLimitedDataProtector _signIn = provider.CreateProtector("Compliance.Oidc.Interaction.v2.SignIn").ToTimeLimitedDataProtector();
    private readonly ITimeLimitedDataProtector _consent = provider.CreateProtector("Compliance.Oidc.Interaction.v2.Consent").ToTimeLimitedDataProtector();

    /// <summary>Seals a request for the sign-in and sign-up pages and the resumption after them.</summary>
    public string Protect(AuthorizationRequest request) => Protect(_signIn, request);

    /// <summary>Opens a sign-in token; null when it is missing, forged, expired or of another stage.</summary>
    public AuthorizationRequest? Unprotect(string? token) => Unprotect(_signIn, token);

    /// <summary>Seals a request for the consent page, bound to the session whose sign-in was checked for it.</summary>
    public string ProtectForConsent(AuthorizationRequest request, string sessionId) =>
        Protect(_consent, request with { ConsentSessionId = sessionId });

    /// <summary>Opens a consent token; null when it is missing, forged, expired or of another stage.</summary>
    public AuthorizationRequest? UnprotectForConsent(string? token) =>
        Unprotect(_consent, token) is { ConsentSessionId: not null } request ? request : null;

    private string Protect(ITimeLimitedDataProtector protector, AuthorizationRequest request) =>
        SealedJson.Seal(protector, request, time.GetUtcNow().AddMinutes(options.Value.InteractionLifetimeMinutes));

    private AuthorizationRequest? Unprotect(ITimeLimitedDataProtector protector, string? token) =>
        SealedJson.Open<AuthorizationRequest>(protector, token, maxLength: 16_384, time);
}
