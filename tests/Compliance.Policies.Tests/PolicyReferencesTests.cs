namespace Compliance.Policies.Tests;

/// <summary>What consent events reference can be retired, never deleted.</summary>
public class PolicyReferencesTests
{
    private static readonly PolicySet Shipped = PolicyLoader.Load(PolicyDirectory.Shipped);

    [Fact]
    public void Check_EveryReferenceDeclared_FindsNothing()
    {
        var errors = PolicyReferences.Check(Shipped, [new("research", "2025-09"), new("newsletter", null), new("identity-release", "2025-09")]);

        errors.ShouldBeEmpty();
    }

    [Fact]
    public void Check_NoReferences_FindsNothing()
    {
        PolicyReferences.Check(Shipped, []).ShouldBeEmpty();
    }

    [Fact]
    public void Check_DeletedPurpose_IsOneErrorTellingToRetireIt()
    {
        var errors = PolicyReferences.Check(Shipped, [new("marketing", "2024-01"), new("marketing", null), new("marketing", "2024-02")]);

        var error = errors.ShouldHaveSingleItem();
        error.File.ShouldBe("purposes.yaml");
        error.Message.ShouldBe("purpose 'marketing' is referenced by consent events: retire it (retired: true) instead of deleting it");
    }

    [Fact]
    public void Check_DeletedNoticeVersion_IsAnErrorNamingPurposeAndVersion()
    {
        var errors = PolicyReferences.Check(Shipped, [new("research", "2024-01"), new("research", "2025-09"), new("research", "2024-01")]);

        errors.ShouldHaveSingleItem().Message
            .ShouldBe("notice version '2024-01' of purpose 'research' is referenced by consent events: retire it (retired: true) instead of deleting it");
    }

    [Fact]
    public void Check_SeveralMissing_OneErrorEachInAStableOrder()
    {
        var errors = PolicyReferences.Check(Shipped, [new("zeta", null), new("newsletter", "1999"), new("alpha", null), new("research", "1998")]);

        errors.Select(e => e.Message[..e.Message.IndexOf(" is referenced", StringComparison.Ordinal)]).ShouldBe([
            "purpose 'alpha'",
            "purpose 'zeta'",
            "notice version '1999' of purpose 'newsletter'",
            "notice version '1998' of purpose 'research'",
        ]);
    }

    [Fact]
    public void Check_RetiredPurposeAndVersion_StillResolve()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", "  - id: newsletter\n", "  - id: newsletter\n    retired: true\n");
        var loaded = PolicyLoader.Load(policies.Path);

        var errors = PolicyReferences.Check(loaded, [new("newsletter", "2025-09")]);

        loaded.FindPurpose("newsletter")!.Retired.ShouldBeTrue();
        errors.ShouldBeEmpty();
    }

    [Fact]
    public void Check_ReferenceWithControlCharacters_IsShownOnOneLine()
    {
        var errors = PolicyReferences.Check(Shipped, [new("evil\nid", null)]);

        errors.ShouldHaveSingleItem().ToString().ShouldNotContain("\n");
    }

    [Fact]
    public void Check_DeletedPurposeAfterEdit_IsReported()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", "    legalBasis: vital-interest\n", "    legalBasis: vital-interest\n    retired: true\n");
        var loaded = PolicyLoader.Load(policies.Path);

        PolicyReferences.Check(loaded, [new("emergency-identification", null)]).ShouldBeEmpty();
        PolicyReferences.Check(loaded, [new("break-glass", null)]).ShouldHaveSingleItem();
    }
}
