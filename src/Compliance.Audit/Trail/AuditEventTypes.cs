namespace Compliance.Audit.Trail;

/// <summary>
/// The catalogue of audit event ids. Ids are never reused or renumbered: a DPO report from last year must read the
/// same today. Ranges: 1000s operations, 2000s identity provider (2100s its staff accounts), 3000s jobs (3000–3019 patient notices, 3020–3039 the job dashboard) and vault (3100s), 4000s consent, 5000s rights. The
/// README's "Audit events" table lists them for a DPO; a test keeps the two in step.
/// </summary>
public static class AuditEventTypes
{
    /// <summary>A store's schema was migrated by <c>compliance migrate</c> or at start-up. Details: store, from, to, trigger.</summary>
    public static readonly AuditEventType SchemaMigrated = new(1000, "schema.migrated");

    /// <summary>A node started with a policy set (purposes, retention, register) whose fingerprint differs from the last one in force.</summary>
    public static readonly AuditEventType PolicySetActivated = new(1001, "policies.activated");

    /// <summary>A token signing key was created (scheduled rotation). Details: algorithm, kid (public thumbprint), generation, activates_at.</summary>
    public static readonly AuditEventType SigningKeyCreated = new(1002, "keys.signing_key_created");

    /// <summary>Retired token signing keys were purged once no longer published. Details: algorithm, kids, count.</summary>
    public static readonly AuditEventType SigningKeysPurged = new(1003, "keys.signing_keys_purged");

    /// <summary>
    /// A Data Protection key (it seals session cookies and sign-in interactions) was created: the first one, or a
    /// scheduled rotation. Details: key_id, activates_at, expires_at (Unix seconds).
    /// </summary>
    public static readonly AuditEventType DataProtectionKeyCreated = new(1004, "keys.data_protection_key_created");

    /// <summary>A key-encryption key was created by <c>compliance keys init</c>. Details: kek_id (a thumbprint, never key material), custody.</summary>
    public static readonly AuditEventType KeyEncryptionKeyCreated = new(1005, "keys.kek_created");

    /// <summary>
    /// A token signing key was revoked (<c>compliance keys revoke-signing-key</c>): withdrawn from the JWKS and from
    /// validation, its wrapped private key deleted. Details: algorithm, kid, generation, and replaced_by (the kid of
    /// the key that signs from now on, when the revoked one was signing).
    /// </summary>
    public static readonly AuditEventType SigningKeyRevoked = new(1006, "keys.signing_key_revoked");

    /// <summary>A node started with a key-encryption key. Details: custody, kek_id, region (Azure Key Vault), previous_kek_id during a rotation.</summary>
    public static readonly AuditEventType KeyEncryptionKeyInUse = new(1007, "keys.kek_in_use");

    /// <summary><c>compliance keys rotate-kek</c> re-wrapped keys under a new key-encryption key. Details: kek_id, from_kek_ids, rewrapped, remaining.</summary>
    public static readonly AuditEventType KeyEncryptionKeyRotated = new(1008, "keys.kek_rotated");

    /// <summary>
    /// <c>compliance keys export-escrow</c> wrote the key-encryption key (or its references) encrypted to an operator's
    /// public key. Details: custody, kek_id, recipient (the SHA-256 thumbprint of the operator's public key).
    /// </summary>
    public static readonly AuditEventType KeyEscrowExported = new(1009, "keys.escrow_exported");

    /// <summary>A keyed-hash secret (it derives pairwise subjects) was created for a purpose. Details: purpose.</summary>
    public static readonly AuditEventType KeyedHashSecretCreated = new(1010, "keys.keyed_hash_secret_created");

    /// <summary>The first attestation key (it signs the consent ledger's checkpoints and receipts) was created. Details: kid, valid_from.</summary>
    public static readonly AuditEventType AttestationKeyCreated = new(1011, "keys.attestation_key_created");

    /// <summary>
    /// The attestation key was rotated: the current key retired (its private key destroyed, its public key kept
    /// published) and a new one made current. Details: retired_kid, retired_at, kid, valid_from, reason (age, operator, compromise).
    /// </summary>
    public static readonly AuditEventType AttestationKeyRotated = new(1012, "keys.attestation_key_rotated");

    /// <summary>An attestation key was marked compromised: its signatures from a time on are void. Details: kid, compromised_from, previous (an earlier mark it replaced, if any).</summary>
    public static readonly AuditEventType AttestationKeyCompromised = new(1013, "keys.attestation_key_compromised");

    /// <summary>An OpenID client (partner) was registered. Details: client_id, type, auth method, sector, scopes, grant types.</summary>
    public static readonly AuditEventType ClientRegistered = new(2000, "client.registered");

    /// <summary>A client's settings were changed. Details: client_id and the names of the changed fields (never their values).</summary>
    public static readonly AuditEventType ClientUpdated = new(2001, "client.updated");

    /// <summary>A client's secret was replaced. Details: client_id and the overlap, in seconds, during which the previous secret still works.</summary>
    public static readonly AuditEventType ClientSecretRotated = new(2002, "client.secret_rotated");

    /// <summary>A client was removed and its grants revoked. Details: client_id.</summary>
    public static readonly AuditEventType ClientRemoved = new(2003, "client.removed");

    /// <summary>A patient signed in with a recovery code instead of an authenticator code. Subject: the account. Details: remaining (codes left).</summary>
    public static readonly AuditEventType RecoveryCodeUsed = new(2004, "account.recovery_code_used");

    /// <summary>A patient turned on a second factor. Subject: the account. Details: method.</summary>
    public static readonly AuditEventType SecondFactorEnabled = new(2005, "account.second_factor_enabled");

    /// <summary>A patient removed a second factor (behind a fresh step-up). Subject: the account. Details: method.</summary>
    public static readonly AuditEventType SecondFactorRemoved = new(2006, "account.second_factor_removed");

    /// <summary>A patient changed their password. Subject: the account. Details: other_sessions_ended, with (password or second_factor).</summary>
    public static readonly AuditEventType PasswordChanged = new(2007, "account.password_changed");

    /// <summary>A patient replaced their recovery codes (behind a fresh step-up). Subject: the account.</summary>
    public static readonly AuditEventType RecoveryCodesRegenerated = new(2008, "account.recovery_codes_regenerated");

    /// <summary>
    /// A passkey ceremony was refused (forged or replayed assertion, another account's credential, wrong origin or RP id,
    /// no user verification). Subject: the signed-in account, if any. Details: ceremony (sign_in, step_up or register).
    /// </summary>
    public static readonly AuditEventType PasskeyRefused = new(2009, "account.passkey_refused");

    /// <summary>A staff account was added by <c>compliance staff add</c>. Details: staff_id, name (an account name), role, partner_client_id.</summary>
    public static readonly AuditEventType StaffAdded = new(2100, "staff.added");

    /// <summary>A staff account was removed by <c>compliance staff remove</c>, with its second factor and sessions. Details: staff_id, name, role, sessions_ended.</summary>
    public static readonly AuditEventType StaffRemoved = new(2101, "staff.removed");

    /// <summary>A staff member signed in (password and second factor). Actor: <c>staff:ID</c>. Details: role, method (totp, recovery_code, enrolment), remaining (recovery codes left, after one was used).</summary>
    public static readonly AuditEventType StaffSignedIn = new(2102, "staff.signed_in");

    /// <summary>
    /// A staff sign-in step was refused. At the password step the actor is <c>anonymous</c> and nothing tells whether
    /// the name exists (details: step, reason, name_hash, a keyed hash that only correlates attempts on one name); at the
    /// later steps the password was right and the actor is <c>staff:ID</c>. Details: step, reason.
    /// </summary>
    public static readonly AuditEventType StaffSignInRefused = new(2103, "staff.sign_in_refused");

    /// <summary>A staff member set up their authenticator app (mandatory at first sign-in). Actor: <c>staff:ID</c>. Details: recovery_codes (how many were issued), password_replaced.</summary>
    public static readonly AuditEventType StaffSecondFactorEnrolled = new(2104, "staff.second_factor_enrolled");

    /// <summary>A staff member signed out. Actor: <c>staff:ID</c>.</summary>
    public static readonly AuditEventType StaffSignedOut = new(2105, "staff.signed_out");

    /// <summary>A patient's session reached a staff page and was refused (403). Actor: <c>patient</c>. Subject: the patient's account. Details: endpoint (the route, never the query).</summary>
    public static readonly AuditEventType StaffPagePatientRefused = new(2106, "staff.patient_session_refused");

    /// <summary>A staff member reached a page of another role and was refused (403). Actor: <c>staff:ID</c>. Details: role, endpoint.</summary>
    public static readonly AuditEventType StaffAccessDenied = new(2107, "staff.access_denied");

    /// <summary>
    /// A notice became visible to a patient (posted now, or due after a delay). Actor: the node that delivered it. Subject:
    /// the account. Details: notice_id, kind (e.g. break_glass_access); never the notice's facts.
    /// </summary>
    public static readonly AuditEventType NoticeDelivered = new(3000, "notice.delivered");

    /// <summary>
    /// A staff administrator asked the job dashboard for an action (requeue, delete, enqueue, trigger or remove a
    /// recurring job), recorded before it runs. Actor: <c>staff:ID</c>. Details: action (the dashboard route, without
    /// job ids), jobs (how many jobs it named).
    /// </summary>
    public static readonly AuditEventType JobsDashboardAction = new(3020, "jobs.dashboard_action");

    /// <summary>A patient gave consent to a client. Subject: the pseudonymous subject. Details: client_id, scopes.</summary>
    public static readonly AuditEventType ConsentGiven = new(4000, "consent.given");

    /// <summary>A patient refused consent to a client. Subject: the pseudonymous subject. Details: client_id, scopes.</summary>
    public static readonly AuditEventType ConsentRefused = new(4001, "consent.refused");

    /// <summary>A patient withdrew a consent. Subject: the pseudonymous subject. Details: client_id.</summary>
    public static readonly AuditEventType ConsentWithdrawn = new(4002, "consent.withdrawn");

    /// <summary>
    /// An operator accepted the consent ledger as the store holds it, behind a checkpoint this node had recorded (a
    /// database restored from a backup). Details: the store's tree size, the recorded tree size.
    /// </summary>
    public static readonly AuditEventType LedgerReconciled = new(4003, "consent.ledger_reconciled");

    /// <summary>
    /// A consent event could not be pushed to a partner's webhook before its deadline (72 hours by default) and is
    /// marked failed for operators. Details: client_id, event_id, type, attempts, last_error (a code such as http_503).
    /// </summary>
    public static readonly AuditEventType ConsentWebhookFailed = new(4050, "consent.webhook_failed");

    /// <summary>An operator sent a failed webhook delivery again (<c>compliance outbox retry</c>). Details: client_id, event_id, type.</summary>
    public static readonly AuditEventType ConsentWebhookRetried = new(4051, "consent.webhook_retried");

    /// <summary>Every type, for reports and for the test that keeps ids unique.</summary>
    public static IReadOnlyList<AuditEventType> All { get; } =
    [
        SchemaMigrated, PolicySetActivated, SigningKeyCreated, SigningKeysPurged, DataProtectionKeyCreated, KeyEncryptionKeyCreated,
        SigningKeyRevoked, KeyEncryptionKeyInUse, KeyEncryptionKeyRotated, KeyEscrowExported, KeyedHashSecretCreated,
        AttestationKeyCreated, AttestationKeyRotated, AttestationKeyCompromised,
        ClientRegistered, ClientUpdated, ClientSecretRotated, ClientRemoved,
        RecoveryCodeUsed, SecondFactorEnabled, SecondFactorRemoved, PasswordChanged, RecoveryCodesRegenerated, PasskeyRefused,
        StaffAdded, StaffRemoved, StaffSignedIn, StaffSignInRefused, StaffSecondFactorEnrolled, StaffSignedOut, StaffPagePatientRefused, StaffAccessDenied,
        NoticeDelivered,
        JobsDashboardAction,
        ConsentGiven, ConsentRefused, ConsentWithdrawn, LedgerReconciled, ConsentWebhookFailed, ConsentWebhookRetried,
    ];
}
