using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Compliance.Oidc.Accounts;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Staff;

/// <summary>
/// A staff sign-in, as the staff cookie carries it. It exists only after a password and a second factor
/// (<c>amr</c> <c>pwd otp mfa</c>, <c>acr</c> <c>eidas2</c>): there is no password-only staff session.
/// </summary>
internal sealed record StaffSession(Guid StaffId, string SessionId, string Role, DateTimeOffset AuthTime)
{
    /// <summary>Its own cookie scheme: a patient cookie never authenticates here, nor a staff cookie on a patient page.</summary>
    public const string Scheme = "Compliance.Staff";
    public const string CookieName = "__Host-compliance-staff";
    public const string DevelopmentCookieName = "compliance-staff";

    public const string RoleClaim = "staff_role";

    /// <summary>RFC 8176: a password, a one-time password, and both together.</summary>
    public static IReadOnlyList<string> Amr { get; } = ["pwd", "otp", "mfa"];

    public static string Acr => Session.AcrSecondFactor;

    public static StaffSession New(Guid staffId, string role, DateTimeOffset now) =>
        new(staffId, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)), role, now);

    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(
        [
            new Claim("sub", StaffId.ToString("D")),
            new Claim("sid", SessionId),
            new Claim(RoleClaim, Role),
            new Claim("auth_time", AuthTime.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new Claim("amr", string.Join(' ', Amr)),
            new Claim("acr", Acr),
        ],
        Scheme,
        "sub",
        RoleClaim));

    public static StaffSession? From(ClaimsPrincipal? principal)
    {
        var identity = principal?.Identities.FirstOrDefault(i => i.AuthenticationType == Scheme);
        if (identity?.IsAuthenticated != true
            || !Guid.TryParse(identity.FindFirst("sub")?.Value, out var staffId)
            || identity.FindFirst("sid")?.Value is not { } sid
            || identity.FindFirst(RoleClaim)?.Value is not { } role || !StaffRoles.IsKnown(role)
            || !long.TryParse(identity.FindFirst("auth_time")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var authTime)
            || identity.FindFirst("amr")?.Value != string.Join(' ', Amr))
        {
            return null;
        }

        return new StaffSession(staffId, sid, role, DateTimeOffset.FromUnixTimeSeconds(authTime));
    }
}
