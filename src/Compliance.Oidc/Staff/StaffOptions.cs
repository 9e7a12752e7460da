using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Staff;

/// <summary>Staff sign-in settings. Bound from the <c>Staff</c> section and validated at start-up.</summary>
public sealed class StaffOptions
{
    public const string SectionName = "Staff";

    /// <summary>How long a staff session lives without a request. Default 15 min; 1 to 60.</summary>
    public int SessionIdleMinutes { get; set; } = 15;

    /// <summary>How long a staff session lives at most, however active. Default 8 h (a working day); 1 to 24.</summary>
    public int SessionAbsoluteHours { get; set; } = 8;
}

internal sealed class StaffOptionsValidator : IValidateOptions<StaffOptions>
{
    public ValidateOptionsResult Validate(string? name, StaffOptions options)
    {
        var failures = new List<string>();
        if (options.SessionIdleMinutes is < 1 or > 60)
        {
            failures.Add($"Staff:SessionIdleMinutes: {options.SessionIdleMinutes} is out of range; expected 1 to 60.");
        }

        if (options.SessionAbsoluteHours is < 1 or > 24)
        {
            failures.Add($"Staff:SessionAbsoluteHours: {options.SessionAbsoluteHours} is out of range; expected 1 to 24.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
