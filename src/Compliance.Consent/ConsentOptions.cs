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

    /// <summary>
    /// When the lifecycle job runs (cron, UTC): it records an <c>Expired</c> event for each given consent past its
    /// validity and an <c>Invalidated</c> event for each given under a notice version a material one superseded.
    /// Default every five minutes; until it runs, such a consent is already treated as not standing.
    /// </summary>
    [Required(ErrorMessage = "Consent:LifecycleCron is required: a cron expression such as '*/5 * * * *'.")]
    [RegularExpression(@"^[0-9*/,\- ]{9,64}$", ErrorMessage = "Consent:LifecycleCron must be a cron expression such as '*/5 * * * *'.")]
    public string LifecycleCron { get; set; } = "*/5 * * * *";

    /// <summary>
    /// Where this node records the latest checkpoint it signed, outside the database, so that a database restored from
    /// an older backup is noticed and refuses appends. Default: <c>ledger-witness.json</c> in the data folder on SQLite;
    /// none on PostgreSQL unless set (put it on a volume that backups do not restore with the database).
    /// </summary>
    [MaxLength(4096)]
    public string? WitnessFile { get; set; }
}
