using Microsoft.Extensions.Logging;

namespace Compliance.Keys;

/// <summary>
/// Log events of key custody (ids 1300-1399). They name keys by id (a public thumbprint or a KEK id) and files by
/// path; never key material, wrapped bytes or hashed data.
/// </summary>
internal static partial class KeysLog
{
    [LoggerMessage(EventId = 1300, EventName = "LocalKekCreated", Level = LogLevel.Information,
        Message = "Created a new key-encryption key {KekId} at {Path}; back this file up apart from the database, and give every node the same file")]
    public static partial void LocalKekCreated(ILogger logger, string kekId, string path);

    [LoggerMessage(EventId = 1301, EventName = "LocalKekLoaded", Level = LogLevel.Information,
        Message = "Loaded the local key-encryption key {KekId} from {Path}")]
    public static partial void LocalKekLoaded(ILogger logger, string kekId, string path);

    [LoggerMessage(EventId = 1302, EventName = "Pkcs11KekOpened", Level = LogLevel.Information,
        Message = "Opened the PKCS#11 key-encryption key {KekId} ({Description}); up to {MaxSessions} sessions")]
    public static partial void Pkcs11KekOpened(ILogger logger, string kekId, string description, int maxSessions);

    [LoggerMessage(EventId = 1303, EventName = "Pkcs11KekCreated", Level = LogLevel.Information,
        Message = "Created the PKCS#11 key-encryption key {KekId} ({Description}); it never leaves the token: back the token up with the HSM's own means")]
    public static partial void Pkcs11KekCreated(ILogger logger, string kekId, string description);

    [LoggerMessage(EventId = 1304, EventName = "Pkcs11TokenUnavailable", Level = LogLevel.Error,
        Message = "The PKCS#11 token of {Description} is not available ({ReturnValue}); its sessions are dropped and reopened at the next operation")]
    public static partial void Pkcs11TokenUnavailable(ILogger logger, string description, string returnValue, Exception exception);

    [LoggerMessage(EventId = 1305, EventName = "Pkcs11UnwrapFailedAuthentication", Level = LogLevel.Warning,
        Message = "A wrapped data key failed authentication under the PKCS#11 key-encryption key {KekId}: it was altered")]
    public static partial void Pkcs11UnwrapFailedAuthentication(ILogger logger, string kekId);

    [LoggerMessage(EventId = 1306, EventName = "Pkcs11KekOnceExtractable", Level = LogLevel.Warning,
        Message = "The PKCS#11 key-encryption key {KekId} was extractable or readable at some time (CKA_NEVER_EXTRACTABLE or CKA_ALWAYS_SENSITIVE is false): copies may exist outside the token")]
    public static partial void Pkcs11KekOnceExtractable(ILogger logger, string kekId);

    [LoggerMessage(EventId = 1310, EventName = "SigningKeyCreated", Level = LogLevel.Information,
        Message = "Created {Algorithm} signing key {KeyId} (generation {Generation}), signing from {ActivatesAt:O}")]
    public static partial void SigningKeyCreated(ILogger logger, string algorithm, string keyId, int generation, DateTimeOffset activatesAt);

    [LoggerMessage(EventId = 1311, EventName = "SigningKeyCreatedElsewhere", Level = LogLevel.Debug,
        Message = "Another node created {Algorithm} signing key generation {Generation} first; using its key")]
    public static partial void SigningKeyCreatedElsewhere(ILogger logger, string algorithm, int generation);

    [LoggerMessage(EventId = 1312, EventName = "SigningKeysPurged", Level = LogLevel.Information,
        Message = "Purged {Count} retired {Algorithm} signing key(s) no longer published: {KeyIds}")]
    public static partial void SigningKeysPurged(ILogger logger, int count, string algorithm, IReadOnlyList<string> keyIds);

    [LoggerMessage(EventId = 1313, EventName = "SigningKeyUnusable", Level = LogLevel.Error,
        Message = "{Algorithm} signing key {KeyId} is not usable on this node and is left out of the key set: {Reason}")]
    public static partial void SigningKeyUnusable(ILogger logger, string algorithm, string keyId, string reason);

    [LoggerMessage(EventId = 1314, EventName = "SigningKeyRotationFailed", Level = LogLevel.Error,
        Message = "Signing key rotation failed; it is retried at the next check")]
    public static partial void RotationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1315, EventName = "SigningKeyRingRefreshFailed", Level = LogLevel.Error,
        Message = "Could not refresh the signing key cache from the store; serving the previous key set")]
    public static partial void RingRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1316, EventName = "SigningKeyRevoked", Level = LogLevel.Warning,
        Message = "Revoked the {Algorithm} signing key {KeyId}; the key signing from now on is {ReplacedBy}")]
    public static partial void SigningKeyRevoked(ILogger logger, string algorithm, string keyId, string? replacedBy);

    [LoggerMessage(EventId = 1317, EventName = "DataProtectionKeyUnbound", Level = LogLevel.Error,
        Message = "Left out Data Protection key {KeyId}: its wrapped secret is not bound to its id and dates (it was moved or edited in the store)")]
    public static partial void DataProtectionKeyUnbound(ILogger logger, string keyId);

    [LoggerMessage(EventId = 1320, EventName = "KeyedHashSecretCreated", Level = LogLevel.Information,
        Message = "Created the keyed-hash secret of purpose {Purpose}")]
    public static partial void KeyedHashSecretCreated(ILogger logger, string purpose);

    // 1350-1369: the Azure Key Vault key-encryption key. Never a token, a secret or key bytes.
    [LoggerMessage(EventId = 1350, EventName = "AzureKekReady", Level = LogLevel.Information,
        Message = "Azure Key Vault key-encryption key {KekId} is ready (region {Region}): {KeyType}, wrapKey and unwrapKey allowed")]
    public static partial void AzureKekReady(ILogger logger, string kekId, string region, string keyType);

    [LoggerMessage(EventId = 1351, EventName = "AzureKekVaultRefused", Level = LogLevel.Warning,
        Message = "Azure Key Vault refused {Operation} on {Key}: HTTP {Status} {Code}")]
    public static partial void AzureKekVaultRefused(ILogger logger, string operation, string key, int status, string code);

    [LoggerMessage(EventId = 1352, EventName = "AzureKekChallengeRefused", Level = LogLevel.Error,
        Message = "Refused the authentication challenge of {Host} for resource {Resource}: {Reason}; no token was requested or sent")]
    public static partial void AzureKekChallengeRefused(ILogger logger, string host, string resource, string reason);

    [LoggerMessage(EventId = 1353, EventName = "AzureKekTokenAcquired", Level = LogLevel.Debug,
        Message = "Got an access token for {Scope}, valid until {ExpiresOn:O}")]
    public static partial void AzureKekTokenAcquired(ILogger logger, string scope, DateTimeOffset expiresOn);

    [LoggerMessage(EventId = 1354, EventName = "AzureKekTokenRefreshFailed", Level = LogLevel.Warning,
        Message = "Could not refresh the access token for {Scope}; using the current one until it expires")]
    public static partial void AzureKekTokenRefreshFailed(ILogger logger, string scope, Exception exception);

    [LoggerMessage(EventId = 1355, EventName = "AzureKekVersionChanged", Level = LogLevel.Information,
        Message = "Azure Key Vault key-encryption key moved from {PreviousKekId} to {KekId}: new data keys are wrapped with the new version")]
    public static partial void AzureKekVersionChanged(ILogger logger, string previousKekId, string kekId);
}
