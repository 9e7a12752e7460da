namespace Compliance.Policies;

/// <summary>
/// The validated content of the policy directory, immutable once loaded. Registered as a
/// singleton by <see cref="PoliciesServiceCollectionExtensions.AddCompliancePolicies"/>.
/// </summary>
public sealed class PolicySet
{
    private readonly Dictionary<string, Purpose> purposesById;
    private readonly Dictionary<string, DataCategory> categoriesById;
    private readonly Dictionary<string, RetentionRule> rulesByCategory;
    private readonly Dictionary<string, RegisterEntry> entriesById;
    private readonly Dictionary<string, Purpose> purposesByScope;

    internal PolicySet(
        string sourceDirectory,
        string fingerprint,
        IReadOnlyList<DataCategory> dataCategories,
        IReadOnlyList<Purpose> purposes,
        IReadOnlyList<RetentionRule> retentionRules,
        Controller controller,
        IReadOnlyList<RegisterEntry> register)
    {
        SourceDirectory = sourceDirectory;
        Fingerprint = fingerprint;
        DataCategories = dataCategories;
        Purposes = purposes;
        RetentionRules = retentionRules;
        Controller = controller;
        Register = register;
        purposesById = purposes.ToDictionary(purpose => purpose.Id, StringComparer.Ordinal);
        categoriesById = dataCategories.ToDictionary(category => category.Id, StringComparer.Ordinal);
        rulesByCategory = retentionRules.ToDictionary(rule => rule.DataCategory.Id, StringComparer.Ordinal);
        entriesById = register.ToDictionary(entry => entry.Id, StringComparer.Ordinal);
        purposesByScope = purposes.SelectMany(purpose => purpose.Scopes.Select(scope => (scope, purpose)))
            .ToDictionary(pair => pair.scope, pair => pair.purpose, StringComparer.Ordinal);
        Scopes = [.. purposesByScope.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The full path the files were read from.</summary>
    public string SourceDirectory { get; }

    /// <summary>
    /// Lowercase hex SHA-256 over the bytes of <c>purposes.yaml</c>, <c>retention.yaml</c> and
    /// <c>processing-register.yaml</c>, concatenated in that order, so that a DPO can prove which
    /// policy version was in force (<c>cat purposes.yaml retention.yaml processing-register.yaml | sha256sum</c>).
    /// Notice texts are covered through the hashes that <c>purposes.yaml</c> holds.
    /// </summary>
    public string Fingerprint { get; }

    public IReadOnlyList<DataCategory> DataCategories { get; }

    public IReadOnlyList<Purpose> Purposes { get; }

    public IReadOnlyList<RetentionRule> RetentionRules { get; }

    /// <summary>Art. 30(1)(a): the controller named in the register.</summary>
    public Controller Controller { get; }

    /// <summary>The Art. 30 register of processing activities.</summary>
    public IReadOnlyList<RegisterEntry> Register { get; }

    /// <summary>Every OpenID Connect scope that rests on a purpose, retired purposes included, in ordinal order.</summary>
    public IReadOnlyList<string> Scopes { get; }

    public Purpose? FindPurpose(string id) => purposesById.GetValueOrDefault(id);

    /// <summary>
    /// The purpose <paramref name="scope"/> rests on, or null when no purpose declares it (<c>openid</c>,
    /// <c>offline_access</c>, a client's API scope). The purpose may be <see cref="Purpose.Retired"/>: check it.
    /// </summary>
    public Purpose? PurposeForScope(string scope) => purposesByScope.GetValueOrDefault(scope);

    public DataCategory? FindDataCategory(string id) => categoriesById.GetValueOrDefault(id);

    /// <summary>The retention rule covering <paramref name="dataCategoryId"/>, or null when the category is exempt.</summary>
    public RetentionRule? FindRetentionRule(string dataCategoryId) => rulesByCategory.GetValueOrDefault(dataCategoryId);

    public RegisterEntry? FindRegisterEntry(string id) => entriesById.GetValueOrDefault(id);
}
