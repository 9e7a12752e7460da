using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>
/// The <c>Consent:Outbox</c> settings: how webhook deliveries are retried. A failed attempt is tried again after
/// <see cref="RetryBaseSeconds"/>, doubling each time up to <see cref="RetryMaxSeconds"/>, until
/// <see cref="GiveUpHours"/> after the event; the delivery is then marked failed and shown to operators.
/// </summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Consent:Outbox";

    /// <summary>The first retry's delay, in seconds (1 to 3600; 30 by default).</summary>
    public int RetryBaseSeconds { get; set; } = 30;

    /// <summary>The longest delay between two attempts, in seconds (at least the base, at most 86400; 3600 by default).</summary>
    public int RetryMaxSeconds { get; set; } = 3600;

    /// <summary>How long failing attempts go on after the event, in hours (1 to 720; 72 by default).</summary>
    public int GiveUpHours { get; set; } = 72;

    /// <summary>How long one attempt may take before it is a <c>timeout</c>, in seconds (1 to 60; 10 by default).</summary>
    public int TimeoutSeconds { get; set; } = 10;

    internal TimeSpan GiveUpAfter => TimeSpan.FromHours(GiveUpHours);

    /// <summary>The delay after the <paramref name="attempt"/>-th failed attempt (1-based).</summary>
    internal TimeSpan RetryAfter(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(RetryMaxSeconds, RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30))));
}

internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        List<string> failures = [];
        if (options.RetryBaseSeconds is < 1 or > 3600)
        {
            failures.Add("Consent:Outbox:RetryBaseSeconds must be between 1 and 3600.");
        }

        if (options.RetryMaxSeconds < options.RetryBaseSeconds || options.RetryMaxSeconds > 86_400)
        {
            failures.Add("Consent:Outbox:RetryMaxSeconds must be at least RetryBaseSeconds and at most 86400.");
        }

        if (options.GiveUpHours is < 1 or > 720)
        {
            failures.Add("Consent:Outbox:GiveUpHours must be between 1 and 720.");
        }

        if (options.TimeoutSeconds is < 1 or > 60)
        {
            failures.Add("Consent:Outbox:TimeoutSeconds must be between 1 and 60.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
