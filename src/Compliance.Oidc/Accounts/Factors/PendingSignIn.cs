using Compliance.Oidc.Interaction;
using Microsoft.AspNetCore.DataProtection;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>A password that checked out, waiting for the account's second factor: which account, and its pseudonym for the throttle.</summary>
internal sealed record PendingSignIn(Guid AccountId, string Pseudonym);

/// <summary>
/// Seals a <see cref="PendingSignIn"/> into the second-factor form for five minutes, so that no node has to remember
/// it and nobody can point it at another account. No session exists until the second factor is checked.
/// </summary>
internal sealed class PendingSignIns(IDataProtectionProvider provider, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ITimeLimitedDataProtector _protector =
        provider.CreateProtector("Compliance.Oidc.Accounts.PendingSignIn.v1").ToTimeLimitedDataProtector();

    public string Protect(PendingSignIn pending) => SealedJson.Seal(_protector, pending, time.GetUtcNow().Add(Lifetime));

    /// <summary>The pending sign-in, or null when the token is missing, forged, expired or of another purpose.</summary>
    public PendingSignIn? Unprotect(string? token) => SealedJson.Open<PendingSignIn>(_protector, token, maxLength: 4096, time);
}
