namespace Compliance.Policies;

/// <summary>
/// The kebab-case identifiers that policy files use for enumerated values, so that reports and
/// APIs print the same words a DPO reads in the YAML.
/// </summary>
public static class PolicyVocabulary
{
    internal static readonly IReadOnlyDictionary<string, RetentionTrigger> Triggers = new Dictionary<string, RetentionTrigger>(StringComparer.Ordinal)
    {
        ["collection"] = RetentionTrigger.Collection,
        ["last-activity"] = RetentionTrigger.LastActivity,
        ["account-closure"] = RetentionTrigger.AccountClosure,
        ["event"] = RetentionTrigger.Event,
        ["consent-end"] = RetentionTrigger.ConsentEnd,
        ["request-closure"] = RetentionTrigger.RequestClosure,
        ["last-consultation"] = RetentionTrigger.LastConsultation,
        ["study-end"] = RetentionTrigger.StudyEnd,
        ["birth"] = RetentionTrigger.Birth,
        ["death"] = RetentionTrigger.Death,
    };

    internal static readonly IReadOnlyDictionary<string, RetentionAction> Actions = new Dictionary<string, RetentionAction>(StringComparer.Ordinal)
    {
        ["delete"] = RetentionAction.Delete,
        ["anonymise"] = RetentionAction.Anonymise,
        ["crypto-shred"] = RetentionAction.CryptoShred,
        ["archive"] = RetentionAction.Archive,
        ["redact"] = RetentionAction.Redact,
    };

    internal static readonly IReadOnlyDictionary<string, LegalHoldBehaviour> LegalHolds = new Dictionary<string, LegalHoldBehaviour>(StringComparer.Ordinal)
    {
        ["suspend"] = LegalHoldBehaviour.Suspend,
        ["ignore"] = LegalHoldBehaviour.Ignore,
    };

    internal static readonly IReadOnlyDictionary<string, RecipientKind> RecipientKinds = new Dictionary<string, RecipientKind>(StringComparer.Ordinal)
    {
        ["internal"] = RecipientKind.Internal,
        ["processor"] = RecipientKind.Processor,
        ["partner"] = RecipientKind.Partner,
        ["authority"] = RecipientKind.Authority,
        ["research"] = RecipientKind.Research,
    };

    internal static readonly IReadOnlyDictionary<string, TransferSafeguard> Safeguards = new Dictionary<string, TransferSafeguard>(StringComparer.Ordinal)
    {
        ["adequacy"] = TransferSafeguard.Adequacy,
        ["standard-contractual-clauses"] = TransferSafeguard.StandardContractualClauses,
        ["binding-corporate-rules"] = TransferSafeguard.BindingCorporateRules,
        ["derogation"] = TransferSafeguard.Derogation,
    };

    /// <summary>The languages every notice is published in.</summary>
    internal static readonly IReadOnlyList<string> NoticeLanguages = ["fr", "en"];

    /// <summary>EU member states plus Iceland, Liechtenstein and Norway: where health data may be stored.</summary>
    internal static readonly IReadOnlySet<string> EeaCountries = new HashSet<string>(StringComparer.Ordinal)
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
        "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    };

    public static string ToId(this RetentionTrigger value) => Reverse(Triggers, value);

    public static string ToId(this RetentionAction value) => Reverse(Actions, value);

    public static string ToId(this LegalHoldBehaviour value) => Reverse(LegalHolds, value);

    public static string ToId(this RecipientKind value) => Reverse(RecipientKinds, value);

    public static string ToId(this TransferSafeguard value) => Reverse(Safeguards, value);

    private static string Reverse<T>(IReadOnlyDictionary<string, T> table, T value)
        where T : struct, Enum =>
        table.First(pair => EqualityComparer<T>.Default.Equals(pair.Value, value)).Key;
}
