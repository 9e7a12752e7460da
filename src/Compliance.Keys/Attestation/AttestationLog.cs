using Microsoft.Extensions.Logging;

namespace Compliance.Keys.Attestation;

/// <summary>Log events of the attestation keys (ids 1400-1429): kids (public thumbprints) and times, never key material.</summary>
internal static partial class AttestationLog
{
    [LoggerMessage(EventId = 1400, EventName = "AttestationKeyCreated", Level = LogLevel.Information,
        Message = "Created the first attestation key {KeyId}, signing from {ValidFrom:O}")]
    public static partial void KeyCreated(ILogger logger, string keyId, DateTimeOffset validFrom);

    [LoggerMessage(EventId = 1401, EventName = "AttestationKeyRotated", Level = LogLevel.Information,
        Message = "Rotated the attestation key ({Reason}): {RetiredKeyId} retired at {RetiredAt:O}, its private key destroyed; {KeyId} signs from {ValidFrom:O}")]
    public static partial void KeyRotated(ILogger logger, string reason, string retiredKeyId, DateTimeOffset retiredAt, string keyId, DateTimeOffset validFrom);

    [LoggerMessage(EventId = 1402, EventName = "AttestationKeyCompromised", Level = LogLevel.Warning,
        Message = "Marked the attestation key {KeyId} compromised: its signatures from {CompromisedFrom:O} on are void")]
    public static partial void KeyCompromised(ILogger logger, string keyId, DateTimeOffset compromisedFrom);

    [LoggerMessage(EventId = 1403, EventName = "AttestationKeySettledElsewhere", Level = LogLevel.Debug,
        Message = "Another node created or rotated the attestation key at the same moment; using its key")]
    public static partial void SettledElsewhere(ILogger logger);
}
