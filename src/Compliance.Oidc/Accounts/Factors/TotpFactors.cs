using System.Security.Cryptography;
using Compliance.Data.Model;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc.Accounts.Factors;

/// <summary>What an authenticator app needs to enrol: the key in base32, and the <c>otpauth://</c> URI its QR code carries.</summary>
internal sealed record TotpEnrolment(string Key, Uri OtpAuthUri);

/// <summary>How a code was judged.</summary>
internal enum TotpVerdict
{
    Accepted,

    /// <summary>Not a code of the current step or one either side.</summary>
    Wrong,

    /// <summary>A right code, but of a step already used (a replay, on this node or another).</summary>
    Replayed,

    /// <summary>The account has no confirmed authenticator.</summary>
    NotEnrolled,
}

/// <summary>
/// An account's TOTP second factor (RFC 6238): enrolment, confirmation by a first code, and verification where each
/// code is accepted once. "Once" holds across requests and nodes because the acceptance is one conditional update of
/// the last accepted time step, never a read followed by a write.
/// </summary>
internal sealed class TotpFactors(ComplianceDbContext db, IDataProtectionProvider protection, TimeProvider time)
{
    public const string Issuer = "Compliance";

    private readonly IDataProtector _protector = protection.CreateProtector("Compliance.Oidc.Totp.v1");

    /// <summary>
    /// Starts (or restarts) an enrolment with a new key, unconfirmed until <see cref="ConfirmAsync"/>. Refused while a
    /// confirmed authenticator exists: replacing one is a separate, stepped-up action.
    /// </summary>
    public async Task<TotpEnrolment?> BeginAsync(Guid accountId, string label, CancellationToken cancellationToken)
    {
        var existing = await db.Set<TotpFactor>().FirstOrDefaultAsync(f => f.AccountId == accountId, cancellationToken);
        if (existing?.ConfirmedAt is not null)
        {
            return null;
        }

        var secret = RandomNumberGenerator.GetBytes(Totp.SecretBytes);
        try
        {
            var factor = existing ?? db.Add(new TotpFactor { AccountId = accountId }).Entity;
            factor.ProtectedSecret = Convert.ToBase64String(_protector.Protect(secret));
            factor.CreatedAt = time.GetUtcNow();
            factor.LastTimeStep = 0;
            await db.SaveChangesAsync(cancellationToken);
            return Enrolment(secret, label);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The enrolment still waiting for its first code, shown again after a wrong one; null when there is none.</summary>
    public async Task<TotpEnrolment?> PendingAsync(Guid accountId, string label, CancellationToken cancellationToken)
    {
        var factor = await db.Set<TotpFactor>().AsNoTracking().FirstOrDefaultAsync(f => f.AccountId == accountId && f.ConfirmedAt == null, cancellationToken);
        if (factor is null)
        {
            return null;
        }

        return WithSecret(factor, secret => Enrolment(secret, label));
    }

    /// <summary>Opens a factor's sealed key for <paramref name="use"/> only, then wipes it from memory.</summary>
    private T WithSecret<T>(TotpFactor factor, Func<byte[], T> use)
    {
        var secret = _protector.Unprotect(Convert.FromBase64String(factor.ProtectedSecret));
        try
        {
            return use(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static TotpEnrolment Enrolment(byte[] secret, string label)
    {
        var key = Base32.Encode(secret);
        var uri = new Uri($"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(label)}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&algorithm=SHA1&digits={Totp.Digits}&period={Totp.StepSeconds}");
        return new TotpEnrolment(key, uri);
    }

    /// <summary>Confirms a pending enrolment with a first code from the app; that code is then used up.</summary>
    public Task<TotpVerdict> ConfirmAsync(Guid accountId, string? code, CancellationToken cancellationToken) =>
        CheckAsync(accountId, code, confirming: true, cancellationToken);

    /// <summary>Verifies a sign-in code of a confirmed authenticator; each code is accepted at most once.</summary>
    public Task<TotpVerdict> VerifyAsync(Guid accountId, string? code, CancellationToken cancellationToken) =>
        CheckAsync(accountId, code, confirming: false, cancellationToken);

    /// <summary>Deletes the account's authenticator, confirmed or not, with its sealed key.</summary>
    public Task<int> RemoveAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<TotpFactor>().Where(f => f.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);

    /// <summary>Whether the account has a confirmed authenticator.</summary>
    public Task<bool> IsEnrolledAsync(Guid accountId, CancellationToken cancellationToken) =>
        new SecondFactors(db).HasTotpAsync(accountId, cancellationToken);

    private async Task<TotpVerdict> CheckAsync(Guid accountId, string? code, bool confirming, CancellationToken cancellationToken)
    {
        var factor = await db.Set<TotpFactor>().AsNoTracking().FirstOrDefaultAsync(f => f.AccountId == accountId, cancellationToken);
        if (factor is null || (factor.ConfirmedAt is null) != confirming)
        {
            return TotpVerdict.NotEnrolled;
        }

        var now = time.GetUtcNow();
        var step = WithSecret(factor, secret => Totp.MatchingStep(secret, code, now));
        if (step is null)
        {
            return TotpVerdict.Wrong;
        }

        // The single-use guarantee: only the request that moves the last step forward wins, on any node.
        var updated = confirming
            ? await db.Set<TotpFactor>()
                .Where(f => f.AccountId == accountId && f.ConfirmedAt == null && f.ProtectedSecret == factor.ProtectedSecret && f.LastTimeStep < step)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.LastTimeStep, step.Value).SetProperty(f => f.ConfirmedAt, now), cancellationToken)
            : await db.Set<TotpFactor>()
                .Where(f => f.AccountId == accountId && f.ConfirmedAt != null && f.LastTimeStep < step)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.LastTimeStep, step.Value), cancellationToken);
        return updated == 1 ? TotpVerdict.Accepted : TotpVerdict.Replayed;
    }
}
