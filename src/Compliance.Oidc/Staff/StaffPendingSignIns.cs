using Compliance.Oidc.Interaction;
using Microsoft.AspNetCore.DataProtection;

namespace Compliance.Oidc.Staff;

/// <summary>Where a staff sign-in stands after a right password: the code of an enrolled app, or the mandatory enrolment.</summary>
internal enum StaffStep
{
    SecondFactor,
    Enrolment,
}

/// <summary>A staff password that checked out, waiting for its second factor (or its enrolment): which account, its name for the throttle, the step, and where to go after.</summary>
internal sealed record StaffPendingSignIn(Guid StaffId, string Name, StaffStep Step, string? ReturnPath);

/// <summary>
/// Seals a <see cref="StaffPendingSignIn"/> into the next step's form for ten minutes (time to set up an app), under a
/// purpose of its own: a patient's pending token is refused here, and a token of one step is refused at the other.
/// No staff session exists until the second factor is checked.
/// </summary>
internal sealed class StaffPendingSignIns(IDataProtectionProvider provider, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _protector =
        provider.CreateProtector("Compliance.Oidc.Staff.PendingSignIn.v1").ToTimeLimitedDataProtector();

    public string Protect(StaffPendingSignIn pending) => SealedJson.Seal(_protector, pending, time.GetUtcNow().Add(Lifetime));

    /// <summary>The pending sign-in of <paramref name="step"/>, or null when the token is missing, forged, expired, of another purpose or of another step.</summary>
    public StaffPendingSignIn? Unprotect(string? token, StaffStep step) =>
        SealedJson.Open<StaffPendingSignIn>(_protector, token, maxLength: 4096, time) is { } pending && pending.Step == step ? pending : null;
}
