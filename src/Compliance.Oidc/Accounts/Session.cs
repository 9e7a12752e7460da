using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Accounts;

/// <summary>The signed-in session, as the encrypted session cookie carries it.</summary>
internal sealed record Session(Guid SubjectId, string SessionId, DateTimeOffset AuthTime, IReadOnlyList<string> Amr, string Acr)
{
    public const string Scheme = "Compliance.Session";
    public const string CookieName = "__Host-compliance-session";
    public const string DevelopmentCookieName = "compliance-session";

    /// <summary>Password only: the lowest level. Second factors and passkeys will raise it.</summary>
    public const string AcrPassword = "eidas1";

    private static readonly string[] AcrLevels = ["eidas1", "eidas2", "eidas3"];

    public static IReadOnlyList<string> AcrOrder => AcrLevels;

    public static Session NewPasswordSession(Guid subjectId, DateTimeOffset now) =>
        new(subjectId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), now, ["pwd"], AcrPassword);

    /// <summary>The level of a password and a second factor (RFC 8176: <c>otp</c> for a TOTP code, <c>mfa</c> for both together).</summary>
    public const string AcrSecondFactor = "eidas2";

    public static Session NewTotpSession(Guid subjectId, DateTimeOffset now) =>
        new(subjectId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), now, ["pwd", "otp", "mfa"], AcrSecondFactor);

    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(
        [
            new Claim("sub", SubjectId.ToString("D")),
            new Claim("sid", SessionId),
            new Claim("auth_time", AuthTime.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new Claim("amr", string.Join(' ', Amr)),
            new Claim("acr", Acr),
        ],
        Scheme,
        "sub",
        null));

    public static Session? From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true
            || !Guid.TryParse(principal.FindFirst("sub")?.Value, out var subject)
            || principal.FindFirst("sid")?.Value is not { } sid
            || !long.TryParse(principal.FindFirst("auth_time")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var authTime)
            || principal.FindFirst("acr")?.Value is not { } acr)
        {
            return null;
        }

        var amr = (principal.FindFirst("amr")?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new Session(subject, sid, DateTimeOffset.FromUnixTimeSeconds(authTime), amr, acr);
    }

    /// <summary>Whether <paramref name="achieved"/> is at least <paramref name="required"/> in the eIDAS order.</summary>
    public static bool Satisfies(string achieved, string? required) =>
        required is null || (Array.IndexOf(AcrLevels, required) >= 0 && Array.IndexOf(AcrLevels, achieved) >= Array.IndexOf(AcrLevels, required));
}
