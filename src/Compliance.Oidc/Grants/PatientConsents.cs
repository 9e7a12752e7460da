namespace Compliance.Oidc.Grants;

/// <summary>A purpose's consent for one partner, as the patient's account shows it.</summary>
/// <param name="ClientId">The partner.</param>
/// <param name="PurposeId">The purpose (<c>policies/purposes.yaml</c>).</param>
/// <param name="State">The DPV state's name (<c>Given</c>, <c>Refused</c>, <c>Withdrawn</c>…).</param>
/// <param name="Stands">Whether processing is allowed now (given or renewed, not expired, not invalidated by a material notice).</param>
/// <param name="NoticeVersion">The notice version the deciding event recorded.</param>
/// <param name="Since">When the deciding event happened.</param>
/// <param name="ExpiresAt">When a given consent lapses, if it does.</param>
public sealed record PatientConsent(string ClientId, string PurposeId, string State, bool Stands, string? NoticeVersion, DateTimeOffset Since, DateTimeOffset? ExpiresAt);

/// <summary>
/// One event of the patient's consent history, with the receipt it has. <c>RecordedBy</c> is the partner's name when
/// the partner collected the consent in its own app and recorded it, null when it was given here.
/// </summary>
public sealed record PatientConsentEvent(Guid EventId, string ClientId, string PurposeId, string State, DateTimeOffset OccurredAt, string? RecordedBy = null);

/// <summary>
/// What the patient's account pages read and do with consents, published by the OpenID provider (which owns the
/// pages) and implemented by the consent ledger. Without a ledger, there is nothing to show.
/// </summary>
public interface IPatientConsents
{
    Task<IReadOnlyList<PatientConsent>> CurrentAsync(Guid subjectId, CancellationToken cancellationToken);

    /// <summary>The patient's events, newest first.</summary>
    Task<IReadOnlyList<PatientConsentEvent>> HistoryAsync(Guid subjectId, CancellationToken cancellationToken);

    /// <summary>
    /// Withdraws the purpose's consent for the partner, or every standing consent for the partner when
    /// <paramref name="purposeId"/> is null, as events of the patient. Returns how many were withdrawn (0 when nothing stood).
    /// </summary>
    Task<int> WithdrawAsync(Guid subjectId, string clientId, string? purposeId, string language, CancellationToken cancellationToken);

    /// <summary>The receipt of one of the patient's events (JSON), or null when the event is not theirs.</summary>
    Task<byte[]?> ReceiptAsync(Guid subjectId, Guid eventId, CancellationToken cancellationToken);
}

internal sealed class NoPatientConsents : IPatientConsents
{
    public Task<IReadOnlyList<PatientConsent>> CurrentAsync(Guid subjectId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<PatientConsent>>([]);

    public Task<IReadOnlyList<PatientConsentEvent>> HistoryAsync(Guid subjectId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<PatientConsentEvent>>([]);

    public Task<int> WithdrawAsync(Guid subjectId, string clientId, string? purposeId, string language, CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<byte[]?> ReceiptAsync(Guid subjectId, Guid eventId, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);
}

/// <summary>
/// Narrows scopes read with a code or refresh token to those whose purposes' consent still stands. The consent ledger
/// implements it on its <see cref="IConsentDecisions"/>, so that the token endpoint keeps its one-query read of the
/// grants and asks the ledger only when a granted scope rests on a consent-based purpose.
/// </summary>
public interface IStandingConsentFilter
{
    Task<IReadOnlySet<string>> FilterAsync(IReadOnlySet<string> granted, Guid subjectId, string clientId, CancellationToken cancellationToken);
}
