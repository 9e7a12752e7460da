namespace Compliance.Policies;

/// <summary>
/// A legal basis from a closed catalogue, named by a stable identifier that policy files use
/// (<c>legalBasis: provision-of-care</c>) and mapped to the GDPR articles it rests on and to
/// the matching concepts of the W3C Data Privacy Vocabulary GDPR extension (<c>eu-gdpr:</c>).
/// </summary>
public sealed class LegalBasis
{
    private const string DpvGdpr = "https://w3id.org/dpv/legal/eu/gdpr#";

    private LegalBasis(string id, string[] articles, bool requiresConsent, bool isSpecialCategoryCondition)
    {
        Id = id;
        Articles = articles;
        DpvConcepts = [.. articles.Select(ToDpvConcept)];
        RequiresConsent = requiresConsent;
        IsSpecialCategoryCondition = isSpecialCategoryCondition;
    }

    /// <summary>Art. 6(1)(a) and, for health data, explicit consent under Art. 9(2)(a).</summary>
    public static LegalBasis Consent { get; } = new("consent", ["Art. 6(1)(a)", "Art. 9(2)(a)"], requiresConsent: true, isSpecialCategoryCondition: true);

    /// <summary>Art. 6(1)(b): necessary for a contract with the patient (e.g. the account).</summary>
    public static LegalBasis Contract { get; } = new("contract", ["Art. 6(1)(b)"], false, false);

    /// <summary>Art. 6(1)(c): required by Union or French law (e.g. proof of consent, traces).</summary>
    public static LegalBasis LegalObligation { get; } = new("legal-obligation", ["Art. 6(1)(c)"], false, false);

    /// <summary>Art. 6(1)(d) and Art. 9(2)(c): vital interests, e.g. break-glass identification in an emergency.</summary>
    public static LegalBasis VitalInterest { get; } = new("vital-interest", ["Art. 6(1)(d)", "Art. 9(2)(c)"], false, true);

    /// <summary>Art. 6(1)(e): task carried out in the public interest.</summary>
    public static LegalBasis PublicTask { get; } = new("public-task", ["Art. 6(1)(e)"], false, false);

    /// <summary>Art. 6(1)(f): legitimate interests of the controller, after a balancing test.</summary>
    public static LegalBasis LegitimateInterest { get; } = new("legitimate-interest", ["Art. 6(1)(f)"], false, false);

    /// <summary>Art. 9(2)(f): establishment, exercise or defence of legal claims (legal holds).</summary>
    public static LegalBasis LegalClaims { get; } = new("legal-claims", ["Art. 9(2)(f)"], false, true);

    /// <summary>Art. 9(2)(h): provision of health care by a professional bound by secrecy.</summary>
    public static LegalBasis ProvisionOfCare { get; } = new("provision-of-care", ["Art. 9(2)(h)"], false, true);

    /// <summary>Art. 9(2)(i): public interest in the area of public health.</summary>
    public static LegalBasis PublicHealth { get; } = new("public-health", ["Art. 9(2)(i)"], false, true);

    /// <summary>Art. 9(2)(j): scientific research in the public interest, with Art. 89 safeguards.</summary>
    public static LegalBasis ScientificResearch { get; } = new("scientific-research", ["Art. 9(2)(j)"], false, true);

    /// <summary>Every legal basis a policy file may name.</summary>
    public static IReadOnlyList<LegalBasis> All { get; } =
    [
        Consent, Contract, LegalObligation, VitalInterest, PublicTask, LegitimateInterest,
        LegalClaims, ProvisionOfCare, PublicHealth, ScientificResearch,
    ];

    /// <summary>The stable identifier used in policy files and stored with consent events.</summary>
    public string Id { get; }

    /// <summary>The GDPR articles this basis rests on, e.g. <c>Art. 9(2)(h)</c>.</summary>
    public IReadOnlyList<string> Articles { get; }

    /// <summary>The DPV GDPR concepts (IRIs), one per article, e.g. <c>https://w3id.org/dpv/legal/eu/gdpr#A9-2-h</c>.</summary>
    public IReadOnlyList<string> DpvConcepts { get; }

    /// <summary>True when processing needs a Given or RenewedGiven consent in the ledger.</summary>
    public bool RequiresConsent { get; }

    /// <summary>True when this basis is an Art. 9(2) condition that allows processing health data.</summary>
    public bool IsSpecialCategoryCondition { get; }

    public static LegalBasis? Find(string id) =>
        All.FirstOrDefault(basis => string.Equals(basis.Id, id, StringComparison.Ordinal));

    public override string ToString() => Id;

    // "Art. 9(2)(h)" -> ".../gdpr#A9-2-h"
    private static string ToDpvConcept(string article) =>
        DpvGdpr + "A" + article["Art. ".Length..].Replace(")(", "-", StringComparison.Ordinal)
            .Replace("(", "-", StringComparison.Ordinal).Replace(")", string.Empty, StringComparison.Ordinal);
}
