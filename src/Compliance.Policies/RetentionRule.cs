namespace Compliance.Policies;

/// <summary>
/// How long one data category is kept, counted from which event, and what happens at the end.
/// </summary>
/// <param name="Id">Stable kebab-case identifier, reported in retention runs.</param>
/// <param name="DataCategory">The category this rule covers (one rule per category).</param>
/// <param name="Period">How long the data are kept after <paramref name="Trigger"/>.</param>
/// <param name="Trigger">The event the period counts from.</param>
/// <param name="Action">What is done when the period ends.</param>
/// <param name="LegalHold">What a legal hold on the subject does to this rule.</param>
/// <param name="NotBefore">Later end dates that extend the period (the latest wins), e.g. the 28th birthday.</param>
/// <param name="AfterDeath">If the subject dies before the period ends, the data are kept this long from the death instead (CSP R.1112-7).</param>
/// <param name="Reference">The legal text or recommendation the period comes from.</param>
/// <param name="Justification">Why this period was chosen, required when it goes beyond the default (e.g. traces kept over a year) or ignores legal holds.</param>
public sealed record RetentionRule(
    string Id,
    DataCategory DataCategory,
    IsoPeriod Period,
    RetentionTrigger Trigger,
    RetentionAction Action,
    LegalHoldBehaviour LegalHold,
    IReadOnlyList<RetentionExtension> NotBefore,
    IsoPeriod? AfterDeath,
    string Reference,
    string? Justification)
{
    /// <summary>
    /// When the period ends, given the dates of the events this rule depends on, or null while
    /// the trigger has not happened yet. A legal hold is not taken into account here: the job
    /// that applies the rule checks holds (see <see cref="LegalHold"/>).
    /// </summary>
    /// <param name="eventDates">The dates known for the subject, e.g. last consultation, birth, death.</param>
    public DateTimeOffset? EndsAt(IReadOnlyDictionary<RetentionTrigger, DateTimeOffset> eventDates)
    {
        ArgumentNullException.ThrowIfNull(eventDates);
        if (!eventDates.TryGetValue(Trigger, out var start))
        {
            return null;
        }

        var end = Period.AddTo(start);
        foreach (var extension in NotBefore)
        {
            if (eventDates.TryGetValue(extension.Trigger, out var from) && extension.Period.AddTo(from) > end)
            {
                end = extension.Period.AddTo(from);
            }
        }

        if (AfterDeath is { } afterDeath
            && eventDates.TryGetValue(RetentionTrigger.Death, out var death)
            && death < afterDeath.AddTo(start))
        {
            end = afterDeath.AddTo(death);
        }

        return end;
    }
}

/// <summary>An extension of a retention period: the data are kept at least until <see cref="Period"/> after <see cref="Trigger"/>.</summary>
public sealed record RetentionExtension(RetentionTrigger Trigger, IsoPeriod Period);

/// <summary>The event a retention period counts from. Policy files use the kebab-case ids in brackets.</summary>
public enum RetentionTrigger
{
    /// <summary>[collection] when the data were collected or the file created.</summary>
    Collection,

    /// <summary>[last-activity] the subject's last login or action on the account.</summary>
    LastActivity,

    /// <summary>[account-closure] the account was closed by the subject or the partner.</summary>
    AccountClosure,

    /// <summary>[event] the time of the recorded event itself (a trace, a ledger event).</summary>
    Event,

    /// <summary>[consent-end] the consent the data rest on was withdrawn, refused, revoked or expired.</summary>
    ConsentEnd,

    /// <summary>[request-closure] the data-subject request was answered or closed.</summary>
    RequestClosure,

    /// <summary>[last-consultation] the patient's last (tele)consultation.</summary>
    LastConsultation,

    /// <summary>[study-end] the end of the research study (last publication of its results).</summary>
    StudyEnd,

    /// <summary>[birth] the subject's birth date.</summary>
    Birth,

    /// <summary>[death] the subject's death.</summary>
    Death,
}

/// <summary>What happens to data at the end of their retention period.</summary>
public enum RetentionAction
{
    /// <summary>[delete] the rows or files are deleted.</summary>
    Delete,

    /// <summary>[anonymise] the data are irreversibly anonymised (no longer personal data).</summary>
    Anonymise,

    /// <summary>[crypto-shred] the subject's data key is destroyed, making every copy unreadable, backups included.</summary>
    CryptoShred,

    /// <summary>[archive] moved to restricted intermediate archiving (CNIL "archivage intermédiaire").</summary>
    Archive,

    /// <summary>[redact] the payload is erased but its hash stays in the Merkle ledger, which remains verifiable.</summary>
    Redact,
}

/// <summary>What a legal hold on the subject (litigation, authority request) does to a retention rule.</summary>
public enum LegalHoldBehaviour
{
    /// <summary>[suspend] nothing is erased while the hold lasts; the period resumes when it is lifted.</summary>
    Suspend,

    /// <summary>[ignore] the rule applies anyway (needs a justification, e.g. temporary export files).</summary>
    Ignore,
}
