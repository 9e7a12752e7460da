namespace Compliance.Policies.Tests;

/// <summary>The policies/ folder of the repository, as the service loads it at start-up.</summary>
public class ShippedPoliciesTests
{
    private static readonly PolicySet Policies = PolicyLoader.Load(PolicyDirectory.Shipped);

    [Theory]
    [InlineData("account-management", "contract")]
    [InlineData("care", "provision-of-care")]
    [InlineData("identity-release", "consent")]
    [InlineData("research", "consent")]
    [InlineData("newsletter", "consent")]
    public void Load_ShippedPolicies_DeclaresRequiredPurposeWithItsLegalBasis(string purposeId, string legalBasisId)
    {
        var purpose = Policies.FindPurpose(purposeId);

        purpose.ShouldNotBeNull();
        purpose.LegalBasis.Id.ShouldBe(legalBasisId);
    }

    [Fact]
    public void Load_ShippedPolicies_CareRestsOnArticle9_2_h()
    {
        var care = Policies.FindPurpose("care")!;

        care.LegalBasis.ShouldBeSameAs(LegalBasis.ProvisionOfCare);
        care.LegalBasis.Articles.ShouldContain("Art. 9(2)(h)");
        care.ConsentRequired.ShouldBeFalse();
    }

    [Theory]
    [InlineData("identity-release")]
    [InlineData("research")]
    [InlineData("newsletter")]
    public void Load_ShippedPolicies_ConsentPurposeIsOffByDefaultWithNoticesInFrenchAndEnglish(string purposeId)
    {
        var purpose = Policies.FindPurpose(purposeId)!;

        purpose.ConsentRequired.ShouldBeTrue();
        purpose.DefaultEnabled.ShouldBeFalse();
        var notice = purpose.CurrentNotice(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        notice.ShouldNotBeNull();
        notice.In("fr").ShouldNotBeNull().File.ShouldNotBeNull();
        notice.In("en").ShouldNotBeNull().Url.Scheme.ShouldBe("https");
    }

    [Fact]
    public void Load_ShippedPolicies_AccessTracesAreKeptBetweenSixAndTwelveMonths()
    {
        var rule = Policies.FindRetentionRule("access-traces");
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        rule.ShouldNotBeNull();
        var end = rule.Period.AddTo(start);
        end.ShouldBeGreaterThanOrEqualTo(start.AddMonths(6));
        end.ShouldBeLessThanOrEqualTo(start.AddMonths(12));
        rule.LegalHold.ShouldBe(LegalHoldBehaviour.Suspend);
    }

    [Fact]
    public void Load_ShippedPolicies_TeleconsultationRecordFollowsPublicHealthCode()
    {
        var rule = Policies.FindRetentionRule("teleconsultation-record")!;

        rule.Period.ShouldBe(IsoPeriod.FromYears(20));
        rule.Trigger.ShouldBe(RetentionTrigger.LastConsultation);
        rule.NotBefore.ShouldBe([new RetentionExtension(RetentionTrigger.Birth, IsoPeriod.FromYears(28))]);
        rule.AfterDeath.ShouldBe(IsoPeriod.FromYears(10));
        rule.LegalHold.ShouldBe(LegalHoldBehaviour.Suspend);
    }

    [Theory]
    [InlineData("account-credentials")]
    [InlineData("consent-records")]
    [InlineData("request-records")]
    [InlineData("export-files")]
    public void Load_ShippedPolicies_CoversCategoryWithARetentionRule(string categoryId)
    {
        var rule = Policies.FindRetentionRule(categoryId);

        rule.ShouldNotBeNull();
        rule.Reference.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Load_ShippedPolicies_EveryPurposeIsInTheRegisterWithItsErasureLimits()
    {
        var registered = Policies.Register.SelectMany(entry => entry.Purposes).Select(purpose => purpose.Id).ToList();

        registered.ShouldBe(Policies.Purposes.Select(purpose => purpose.Id), ignoreOrder: true);
        Policies.Register.ShouldAllBe(entry => entry.ErasureTimeLimits.Count == entry.DataCategories.Count);
        Policies.Controller.DataProtectionOfficer.Contact.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Load_ShippedPolicies_FingerprintIsTheHashOfTheThreeFilesInOrder()
    {
        var bytes = PolicyLoader.FileNames.SelectMany(name => File.ReadAllBytes(Path.Combine(PolicyDirectory.Shipped, name))).ToArray();

        Policies.Fingerprint.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
    }
}
