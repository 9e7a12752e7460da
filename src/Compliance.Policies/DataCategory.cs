namespace Compliance.Policies;

/// <summary>A category of personal data, declared in <c>purposes.yaml</c> and referred to by id elsewhere.</summary>
/// <param name="Id">Stable kebab-case identifier, e.g. <c>teleconsultation-record</c>.</param>
/// <param name="Name">Human name in French and English.</param>
/// <param name="SpecialCategory">Data concerning health under GDPR Art. 9(1): every purpose processing it needs an Art. 9(2) condition.</param>
/// <param name="HealthHosting">Stored and hosted as health data (HDS, EEA only): true also for data that only reveal the use of a health service, such as the identity vault or the consent ledger.</param>
/// <param name="DpvConcept">Optional DPV personal-data concept, e.g. <c>dpv-pd:HealthRecord</c>.</param>
/// <param name="RetentionNotApplicable">Why no retention rule covers this category, when none does.</param>
public sealed record DataCategory(
    string Id,
    LocalizedText Name,
    bool SpecialCategory,
    bool HealthHosting,
    string? DpvConcept,
    string? RetentionNotApplicable);
