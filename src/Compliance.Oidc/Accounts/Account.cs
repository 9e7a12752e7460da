using Microsoft.AspNetCore.Identity;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// A pseudonymous account. Its <c>Id</c> is the internal subject id: random, never derived from civil data, and never
/// shown to a partner (partners see a pairwise <c>sub</c>). The user name is the chosen pseudonym. No e-mail, no phone.
/// </summary>
public sealed class Account : IdentityUser<Guid>
{
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last successful sign-in; the retention job closes accounts inactive for too long.</summary>
    public DateTimeOffset? LastSignInAt { get; set; }
}
