namespace Compliance.Policies;

/// <summary>A purpose of processing, with its legal basis and the data categories it uses.</summary>
/// <param name="Id">Stable kebab-case identifier used by partners over the API and in the consent ledger.</param>
/// <param name="Name">Short name in French and English.</param>
/// <param name="Description">What is done and why, in French and English, as shown to the patient.</param>
/// <param name="LegalBasis">The legal basis (see <see cref="Policies.LegalBasis"/>).</param>
/// <param name="DataCategories">The categories of data processed for this purpose.</param>
/// <param name="DpvConcept">Optional DPV purpose concept, e.g. <c>dpv:ServiceProvision</c>.</param>
/// <param name="Consent">How consent is collected; present exactly when the legal basis requires consent.</param>
public sealed record Purpose(
    string Id,
    LocalizedText Name,
    LocalizedText Description,
    LegalBasis LegalBasis,
    IReadOnlyList<DataCategory> DataCategories,
    string? DpvConcept,
    ConsentTerms? Consent)
{
    /// <summary>True when processing needs a Given or RenewedGiven consent in the ledger.</summary>
    public bool ConsentRequired => LegalBasis.RequiresConsent;

    /// <summary>
    /// Whether the purpose applies before the patient acts. Always false for consent-based
    /// purposes (opt-in only: a pre-ticked box is not consent), true for the others.
    /// </summary>
    public bool DefaultEnabled => Consent?.DefaultEnabled ?? true;

    /// <summary>
    /// The OpenID Connect scopes that rest on this purpose (<c>purposes[].scopes</c>): a client receives them only while
    /// the purpose's legal basis stands, for a consent-based purpose only while the patient's consent stands. Empty when
    /// no scope rests on it. Unique across all purposes.
    /// </summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>
    /// True when the purpose is retired (<c>retired: true</c>): it stays declared because consent events reference it,
    /// but it offers no scope to new requests and is never asked for.
    /// </summary>
    public bool Retired { get; init; }

    /// <summary>
    /// True for care (its legal basis is the provision of care) and for a purpose that processes special-category data:
    /// a payer or insurer may never be granted it, nor learn that it exists for a patient. A consultation's motive
    /// never reaches whoever pays for it.
    /// </summary>
    public bool ForbiddenToPayers => LegalBasis == LegalBasis.ProvisionOfCare || DataCategories.Any(category => category.SpecialCategory);

    /// <summary>Every notice version of this purpose, oldest first; empty when no consent is collected.</summary>
    public IReadOnlyList<NoticeVersion> Notices => Consent?.Notices ?? [];

    /// <summary>
    /// The notice version in force at <paramref name="at"/>: the latest non-retired one whose effective date has passed,
    /// if any. A retired version is never current, even when it is the latest.
    /// </summary>
    public NoticeVersion? CurrentNotice(DateTimeOffset at)
    {
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        return Notices.Where(notice => !notice.Retired && notice.EffectiveFrom <= day).MaxBy(notice => notice.EffectiveFrom);
    }

    /// <summary>
    /// The effective date of the latest material, non-retired notice version in force at <paramref name="at"/>, or null
    /// when none is. A consent given under a notice version whose effective date is earlier than this date is
    /// invalidated (DPV <c>Invalidated</c>) and must be asked again; a non-material version changes nothing.
    /// </summary>
    public DateOnly? MaterialSince(DateTimeOffset at)
    {
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        return Notices.Where(notice => notice.Material && !notice.Retired && notice.EffectiveFrom <= day)
            .Select(notice => (DateOnly?)notice.EffectiveFrom).Max();
    }

    /// <summary>The notice version named <paramref name="version"/>, retired or not, or null when it is not declared.</summary>
    public NoticeVersion? FindNotice(string version) =>
        Notices.FirstOrDefault(notice => string.Equals(notice.Version, version, StringComparison.Ordinal));
}

/// <summary>The terms of a consent-based purpose.</summary>
/// <param name="DefaultEnabled">Always false: the patient opts in.</param>
/// <param name="Validity">How long a consent lasts before it must be renewed; null when it lasts until withdrawn.</param>
/// <param name="Notices">The versions of the notice shown when consent is asked, oldest first.</param>
public sealed record ConsentTerms(bool DefaultEnabled, IsoPeriod? Validity, IReadOnlyList<NoticeVersion> Notices);

/// <summary>One version of a consent notice, in every language it is shown in (French and English).</summary>
public sealed record NoticeVersion(string Version, DateOnly EffectiveFrom, IReadOnlyList<NoticeText> Texts)
{
    /// <summary>
    /// True when this version changes what the patient agrees to (<c>material: true</c>): consents given under earlier
    /// versions are invalidated and the next sign-in asks again. False (the default) for a wording change.
    /// </summary>
    public bool Material { get; init; }

    /// <summary>True when this version is withdrawn from use (<c>retired: true</c>): never current, kept because events reference it.</summary>
    public bool Retired { get; init; }

    /// <summary>The text in <paramref name="language"/>, or null when this version has none.</summary>
    public NoticeText? In(string language) =>
        Texts.FirstOrDefault(text => string.Equals(text.Language, language, StringComparison.Ordinal));
}

/// <summary>
/// A notice text as shown to the patient: its language, where it is published, and the SHA-256 of
/// its exact bytes, which consent events record to prove what the patient saw (GDPR Art. 7(1)).
/// </summary>
/// <param name="Language">"fr" or "en".</param>
/// <param name="Url">Absolute https URL where the text is published.</param>
/// <param name="Sha256">Lowercase hex SHA-256 of the exact text.</param>
/// <param name="File">Path of the text under the policy directory (e.g. <c>notices/research/2025-09.fr.md</c>), checked against <paramref name="Sha256"/> at load; null when the text is not shipped.</param>
public sealed record NoticeText(string Language, Uri Url, string Sha256, string? File);
