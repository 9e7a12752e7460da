namespace Compliance.Policies;

/// <summary>
/// One processing activity of the GDPR Art. 30(1) register: purposes, categories of subjects and
/// data, recipients, transfers, erasure time limits and security measures.
/// </summary>
/// <param name="Id">Stable kebab-case identifier.</param>
/// <param name="Name">Name of the activity in French and English.</param>
/// <param name="Purposes">Art. 30(1)(b): the purposes, from <c>purposes.yaml</c>.</param>
/// <param name="SubjectCategories">Art. 30(1)(c): categories of data subjects.</param>
/// <param name="DataCategories">Art. 30(1)(c): categories of personal data.</param>
/// <param name="Recipients">Art. 30(1)(d): categories of recipients.</param>
/// <param name="Transfers">Art. 30(1)(e): transfers outside the EEA, with their safeguards.</param>
/// <param name="ErasureTimeLimits">Art. 30(1)(f): the retention rules of the entry's data categories, taken from <c>retention.yaml</c>.</param>
/// <param name="SecurityMeasures">Art. 30(1)(g) and Art. 32: technical and organisational measures.</param>
public sealed record RegisterEntry(
    string Id,
    LocalizedText Name,
    IReadOnlyList<Purpose> Purposes,
    IReadOnlyList<SubjectCategory> SubjectCategories,
    IReadOnlyList<DataCategory> DataCategories,
    IReadOnlyList<Recipient> Recipients,
    IReadOnlyList<Transfer> Transfers,
    IReadOnlyList<RetentionRule> ErasureTimeLimits,
    IReadOnlyList<SecurityMeasure> SecurityMeasures);

/// <summary>Art. 30(1)(a): the controller, its representative and its data protection officer.</summary>
public sealed record Controller(string Name, string Address, string Contact, string? Representative, DataProtectionOfficer DataProtectionOfficer);

public sealed record DataProtectionOfficer(string Name, string Contact);

/// <summary>A category of data subjects, e.g. patients or health professionals.</summary>
public sealed record SubjectCategory(string Id, LocalizedText Name);

/// <summary>A recipient (or category of recipients) of personal data.</summary>
public sealed record Recipient(string Id, LocalizedText Name, RecipientKind Kind);

public enum RecipientKind
{
    /// <summary>[internal] staff of the controller, on a need-to-know basis.</summary>
    Internal,

    /// <summary>[processor] a processor under Art. 28 (e.g. the HDS-certified host).</summary>
    Processor,

    /// <summary>[partner] a partner platform (relying party) receiving released claims.</summary>
    Partner,

    /// <summary>[authority] a public authority (CNIL, courts) when the law requires it.</summary>
    Authority,

    /// <summary>[research] a research team receiving pseudonymised data.</summary>
    Research,
}

/// <summary>A transfer of personal data to a country outside the EEA (GDPR Chapter V).</summary>
/// <param name="Recipient">The recipient of the transfer, listed in the entry's recipients.</param>
/// <param name="Country">ISO 3166-1 alpha-2 code of the destination, outside the EEA.</param>
/// <param name="Safeguard">The Chapter V ground for the transfer.</param>
public sealed record Transfer(Recipient Recipient, string Country, TransferSafeguard Safeguard);

public enum TransferSafeguard
{
    /// <summary>[adequacy] an adequacy decision (Art. 45).</summary>
    Adequacy,

    /// <summary>[standard-contractual-clauses] Art. 46(2)(c).</summary>
    StandardContractualClauses,

    /// <summary>[binding-corporate-rules] Art. 47.</summary>
    BindingCorporateRules,

    /// <summary>[derogation] Art. 49.</summary>
    Derogation,
}

/// <summary>A technical or organisational security measure (Art. 32).</summary>
public sealed record SecurityMeasure(string Id, LocalizedText Description);
