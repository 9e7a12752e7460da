using System.ComponentModel.DataAnnotations;

namespace Compliance.Consent;

/// <summary>The consent ledger's settings (section <c>Consent</c>), validated at start.</summary>
public sealed class ConsentOptions
{
    public const string SectionName = "Consent";

    /// <summary>
    /// When the recurring job signs a checkpoint (cron, UTC), if the log grew since the last one. Default every minute:
    /// a receipt then waits at most a minute for a checkpoint that covers it (or gets one signed on demand).
    /// </summary>
    [Required]
    [RegularExpression(@"^[0-9*/,\- ]{9,64}$", ErrorMessage = "Consent:CheckpointCron must be a cron expression such as '* * * * *'.")]
    public string CheckpointCron { get; set; } = "* * * * *";
}
