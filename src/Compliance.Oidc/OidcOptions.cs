using Microsoft.Extensions.Options;

namespace Compliance.Oidc;

/// <summary>The OpenID provider's settings. Bound from the <c>Oidc</c> section and validated at start-up.</summary>
public sealed class OidcOptions
{
    public const string SectionName = "Oidc";

    /// <summary>
    /// The issuer identifier: the public base URL of this service, as partners reach it. HTTPS, except on loopback.
    /// Default <c>http://127.0.0.1:5080</c>, the embedded default's address.
    /// </summary>
    public string Issuer { get; set; } = "http://127.0.0.1:5080";

    /// <summary>How long an authorization code may be exchanged. Default 60 s; 10 to 600.</summary>
    public int AuthorizationCodeLifetimeSeconds { get; set; } = 60;

    /// <summary>How long a pushed authorization request's <c>request_uri</c> may be used. Default 60 s; 10 to 600.</summary>
    public int PushedRequestLifetimeSeconds { get; set; } = 60;

    /// <summary>How long a patient has to sign in and consent once a partner sent them here. Default 15 min; 1 to 60.</summary>
    public int InteractionLifetimeMinutes { get; set; } = 15;

    /// <summary>How long the sign-in session cookie lives without activity. Default 30 min; 1 to 720.</summary>
    public int SessionIdleMinutes { get; set; } = 30;

    /// <summary>
    /// How long a sign-in session lives at most, however active: then the patient signs in again. Default 12 h;
    /// 1 to 168.
    /// </summary>
    public int SessionAbsoluteHours { get; set; } = 12;

    /// <summary>Failed passwords before an account is locked. Default 5; 3 to 20.</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    /// <summary>How long the first lock of a pseudonym lasts. Default 15 min; 1 to 1440.</summary>
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>
    /// Each next lock lasts this many times longer than the one before (until <see cref="MaxLockoutMinutes"/>). Default 4;
    /// 1 to 10. With the defaults, a day of sustained guessing gets at most 25 tries (README, "Strong authentication").
    /// </summary>
    public int LockoutGrowth { get; set; } = 4;

    /// <summary>The longest lock. Default 1440 (a day); 1 to 10080, and not less than <see cref="LockoutMinutes"/>.</summary>
    public int MaxLockoutMinutes { get; set; } = 1440;

    /// <summary>Sign-in and sign-up attempts allowed per client address per minute. Default 20; 1 to 10000.</summary>
    public int InteractiveRequestsPerMinute { get; set; } = 20;

    /// <summary>Token, introspection and revocation requests allowed per client address per second. Default 200; 1 to 1000000.</summary>
    public int TokenRequestsPerSecond { get; set; } = 200;

    /// <summary>
    /// Allow plain-http <c>jwks_uri</c> and <c>sector_identifier_uri</c> on loopback addresses, for local development
    /// and tests. Default <c>false</c>: the service fetches partner documents over https only, and never follows redirects.
    /// </summary>
    public bool AllowLoopbackHttpFetch { get; set; }

    /// <summary>Load the demo client and demo account. Default: only in the Development environment.</summary>
    public bool? SeedDemo { get; set; }

    /// <summary>The issuer without a trailing slash.</summary>
    public string IssuerUri => Issuer.TrimEnd('/');
}

internal sealed class OidcOptionsValidator : IValidateOptions<OidcOptions>
{
    public ValidateOptionsResult Validate(string? name, OidcOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Issuer, UriKind.Absolute, out var issuer)
            || (issuer.Scheme != Uri.UriSchemeHttps && !(issuer.Scheme == Uri.UriSchemeHttp && issuer.IsLoopback))
            || !string.IsNullOrEmpty(issuer.Query) || !string.IsNullOrEmpty(issuer.Fragment) || !string.IsNullOrEmpty(issuer.UserInfo))
        {
            failures.Add("Oidc:Issuer: must be an absolute https URL without query or fragment (http is allowed only on loopback).");
        }

        Range(failures, "Oidc:AuthorizationCodeLifetimeSeconds", options.AuthorizationCodeLifetimeSeconds, 10, 600);
        Range(failures, "Oidc:PushedRequestLifetimeSeconds", options.PushedRequestLifetimeSeconds, 10, 600);
        Range(failures, "Oidc:InteractionLifetimeMinutes", options.InteractionLifetimeMinutes, 1, 60);
        Range(failures, "Oidc:SessionIdleMinutes", options.SessionIdleMinutes, 1, 720);
        Range(failures, "Oidc:SessionAbsoluteHours", options.SessionAbsoluteHours, 1, 168);
        Range(failures, "Oidc:MaxFailedSignIns", options.MaxFailedSignIns, 3, 20);
        Range(failures, "Oidc:LockoutMinutes", options.LockoutMinutes, 1, 1440);
        Range(failures, "Oidc:LockoutGrowth", options.LockoutGrowth, 1, 10);
        Range(failures, "Oidc:MaxLockoutMinutes", options.MaxLockoutMinutes, Math.Max(1, options.LockoutMinutes), 10_080);
        Range(failures, "Oidc:InteractiveRequestsPerMinute", options.InteractiveRequestsPerMinute, 1, 10_000);
        Range(failures, "Oidc:TokenRequestsPerSecond", options.TokenRequestsPerSecond, 1, 1_000_000);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{setting}: {value} is out of range; expected {min} to {max}.");
        }
    }
}
