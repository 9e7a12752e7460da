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

    /// <summary>The levels a sign-in here can reach (eidas3 needs identity proofing, which a pseudonymous account has not).</summary>
    public static IReadOnlyList<string> Reachable { get; } = ["eidas1", "eidas2"];

    /// <summary>The lowest known level of a request's <c>acr_values</c> (any one of them will do); null when none is known.</summary>
    public static string? Weakest(IEnumerable<string> acrValues) =>
        acrValues.Where(v => Array.IndexOf(AcrLevels, v) >= 0).MinBy(v => Array.IndexOf(AcrLevels, v));

    /// <summary>The stronger of two requirements, either of which may be absent.</summary>
    public static string? Stronger(string? a, string? b) =>
        a is null ? b : b is null ? a : Array.IndexOf(AcrLevels, a) >= Array.IndexOf(AcrLevels, b) ? a : b;

    public static Session NewPasswordSession(Guid subjectId, DateTimeOffset now) =>
        new(subjectId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), now, ["pwd"], AcrPassword);

    /// <summary>The level of a password and a second factor (RFC 8176: <c>otp</c> for a TOTP code, <c>mfa</c> for both together).</summary>
    public const string AcrSecondFactor = "eidas2";

    /// <summary>The methods of a password and a TOTP or recovery code, at sign-in or at a step-up.</summary>
    public static readonly IReadOnlyList<string> SecondFactorAmr = ["pwd", "otp", "mfa"];

    public static Session NewTotpSession(Guid subjectId, DateTimeOffset now) =>
        new(subjectId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), now, SecondFactorAmr, AcrSecondFactor);

    /// <summary>
    /// A user-verified passkey alone: possession of the key and the PIN or biometric that unlocked it, so <c>mfa</c>, with
    /// <c>hwk</c> for a device-bound key or <c>swk</c> for a synced one (RFC 8176).
    /// </summary>
    public static Session NewPasskeySession(Guid subjectId, string method, DateTimeOffset now) =>
        new(subjectId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), now, [method, "mfa"], AcrSecondFactor);

    /// <summary>
    /// The methods of a session after a step-up with <paramref name="method"/> (<c>otp</c>, <c>hwk</c>, <c>swk</c>): those
    /// it had, the new one once, and <c>mfa</c>. Only what this session really used: a passkey session stepped up with a
    /// code says <c>hwk otp mfa</c>, never <c>pwd</c>.
    /// </summary>
    public static IReadOnlyList<string> SteppedUp(IReadOnlyList<string> amr, string method) =>
        [.. amr.Where(m => m != "mfa" && m != method), method, "mfa"];

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
