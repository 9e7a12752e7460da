using Microsoft.Extensions.Logging;

namespace Compliance.Policies;

/// <summary>Log messages of the Policies module (event ids 1100-1199). They never carry personal data.</summary>
internal static partial class PoliciesLog
{
    [LoggerMessage(EventId = 1100, EventName = "PoliciesLoaded", Level = LogLevel.Information,
        Message = "Policies loaded from {Directory}: {PurposeCount} purposes, {RetentionRuleCount} retention rules, {RegisterEntryCount} register entries, fingerprint {Fingerprint}")]
    public static partial void PoliciesLoaded(this ILogger logger, string directory, int purposeCount, int retentionRuleCount, int registerEntryCount, string fingerprint);

    [LoggerMessage(EventId = 1101, EventName = "PoliciesInvalid", Level = LogLevel.Critical,
        Message = "Policy files are invalid ({ErrorCount} errors); the service will not start: {Errors}")]
    public static partial void PoliciesInvalid(this ILogger logger, int errorCount, string errors);

    [LoggerMessage(EventId = 1120, EventName = "PolicyReferencesChecked", Level = LogLevel.Information,
        Message = "Policies declare every purpose and notice version that consent events reference ({ReferenceCount} references)")]
    public static partial void PolicyReferencesChecked(this ILogger logger, int referenceCount);

    [LoggerMessage(EventId = 1121, EventName = "PolicyReferencesMissing", Level = LogLevel.Critical,
        Message = "Policy files no longer declare what consent events reference ({ErrorCount} errors); the service will not start: {Errors}")]
    public static partial void PolicyReferencesMissing(this ILogger logger, int errorCount, string errors);
}
