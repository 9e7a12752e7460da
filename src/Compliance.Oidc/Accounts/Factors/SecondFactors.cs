using Compliance.Data.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>Which second factors an account has: they decide between a step-up and a set-up.</summary>
internal sealed class SecondFactors(ComplianceDbContext db)
{
    /// <summary>Whether the account has a confirmed authenticator app.</summary>
    public Task<bool> HasTotpAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<TotpFactor>().AnyAsync(f => f.AccountId == accountId && f.ConfirmedAt != null, cancellationToken);

    /// <summary>Whether the account has a passkey.</summary>
    public Task<bool> HasPasskeyAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<IdentityUserPasskey<Guid>>().AnyAsync(p => p.UserId == accountId, cancellationToken);

    /// <summary>Whether the account has any second factor, so that a step-up (rather than a set-up) can raise a session.</summary>
    public async Task<bool> AnyAsync(Guid accountId, CancellationToken cancellationToken) =>
        await HasTotpAsync(accountId, cancellationToken) || await HasPasskeyAsync(accountId, cancellationToken);
}
