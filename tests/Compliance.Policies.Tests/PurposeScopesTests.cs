namespace Compliance.Policies.Tests;

/// <summary>purposes[].scopes, notices[].material and retired: parsed, checked with file:line:col, and applied.</summary>
public class PurposeScopesTests
{
    private const string ResearchScopes = "    scopes: [research]\n";
    private const string ResearchLastText = "              file: notices/research/2025-09.en.md\n";
    private const string Hash = "0000000000000000000000000000000000000000000000000000000000000000";

    [Fact]
    public void Load_ShippedPolicies_GiveEachConsentPurposeItsScope()
    {
        var policies = PolicyLoader.Load(PolicyDirectory.Shipped);

        policies.Scopes.ShouldBe(["identity", "newsletter", "research"]);
        policies.PurposeForScope("research")!.Id.ShouldBe("research");
        policies.PurposeForScope("identity")!.Id.ShouldBe("identity-release");
        policies.PurposeForScope("newsletter")!.Scopes.ShouldBe(["newsletter"]);
        policies.PurposeForScope("openid").ShouldBeNull();
        policies.FindPurpose("care")!.Scopes.ShouldBeEmpty();
        policies.Purposes.ShouldAllBe(purpose => !purpose.Retired);
    }

    [Fact]
    public void Load_ScopeDeclaredByTwoPurposes_IsRefusedAtTheSecondNamingTheFirst()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var first = policies.Replace("purposes.yaml", ResearchScopes, ResearchScopes);
        var line = policies.Replace("purposes.yaml", "    scopes: [newsletter]\n", "    scopes: [newsletter, research]\n");

        var error = policies.LoadFails().Errors.ShouldHaveSingleItem();

        error.File.ShouldBe("purposes.yaml");
        error.Line.ShouldBe(line);
        error.Column.ShouldBe(26);
        error.Message.ShouldContain("duplicate scope 'research'");
        error.Message.ShouldContain($"purposes.yaml:{first}");
    }

    [Theory]
    [InlineData("Research")]
    [InlineData("research.read")]
    [InlineData("9lives")]
    [InlineData("a12345678901234567890123456789012345678901")]
    public void Load_BadScopeName_IsRefusedAtItsLine(string scope)
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", ResearchScopes, $"    scopes: [{scope}]\n");

        var error = policies.LoadFails().Errors.ShouldHaveSingleItem();

        error.Line.ShouldBe(line);
        error.Column.ShouldBe(14);
        error.Message.ShouldStartWith("purpose 'research': each scope must be an OAuth scope name");
    }

    [Theory]
    [InlineData("openid")]
    [InlineData("offline_access")]
    public void Load_ProtocolScopeOnAPurpose_IsRefused(string scope)
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", ResearchScopes, $"    scopes: [research, {scope}]\n");

        var error = policies.LoadFails().Errors.ShouldHaveSingleItem();

        error.Line.ShouldBe(line);
        error.Message.ShouldContain($"'{scope}' is an OpenID Connect protocol scope");
    }

    [Fact]
    public void Load_ScopesUnderADataCategory_IsAnUnknownKey()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "    dpv: dpv-pd:HealthRecord\n\n  - id: consent-records",
            "    dpv: dpv-pd:HealthRecord\n    scopes: [records]\n\n  - id: consent-records") + 1;

        var error = policies.LoadFails().Errors.ShouldHaveSingleItem();

        error.Line.ShouldBe(line);
        error.Column.ShouldBe(5);
        error.Message.ShouldContain("unknown key 'scopes'");
    }

    [Fact]
    public void Load_MaterialThatIsNotABoolean_IsRefusedAtItsLine()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", ResearchLastText, ResearchLastText + Version("2026-01", "2026-01-01", "material: yes")) + 3;

        var error = policies.LoadFails().Errors.ShouldHaveSingleItem();

        error.Line.ShouldBe(line);
        error.Message.ShouldContain("'material' must be true or false");
    }

    [Fact]
    public void Load_EveryNoticeVersionRetired_IsRefusedUnlessThePurposeIsRetired()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", "  - id: research\n", "  - id: research\n    retired: false\n");
        RetireFirstResearchVersion(policies);

        policies.LoadFails().Errors.ShouldHaveSingleItem().Message.ShouldContain("purpose 'research': every notice version is retired");

        policies.Replace("purposes.yaml", "    retired: false\n", "    retired: true\n");
        var research = PolicyLoader.Load(policies.Path).FindPurpose("research")!;
        research.Retired.ShouldBeTrue();
        research.CurrentNotice(At("2026-06-01")).ShouldBeNull();
    }

    [Fact]
    public void CurrentNotice_LatestVersionRetired_IsThePreviousVersion()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", ResearchLastText, ResearchLastText
            + Version("2026-01", "2026-01-01", "material: false")
            + Version("2026-03", "2026-03-01", "retired: true"));

        var research = PolicyLoader.Load(policies.Path).FindPurpose("research")!;

        research.CurrentNotice(At("2025-12-31"))!.Version.ShouldBe("2025-09");
        research.CurrentNotice(At("2026-01-01"))!.Version.ShouldBe("2026-01");
        research.CurrentNotice(At("2026-06-01"))!.Version.ShouldBe("2026-01");
        research.FindNotice("2026-03")!.Retired.ShouldBeTrue();
        research.Notices.Count.ShouldBe(3);
    }

    [Fact]
    public void MaterialSince_MaterialVersionInForce_IsItsDateUntilALaterMaterialOne()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", ResearchLastText, ResearchLastText
            + Version("2026-01", "2026-01-01", "material: true")
            + Version("2026-02", "2026-02-01", "material: false")
            + Version("2026-04", "2026-04-01", "material: true")
            + Version("2026-05", "2026-05-01", "material: true\n          retired: true"));

        var research = PolicyLoader.Load(policies.Path).FindPurpose("research")!;

        research.MaterialSince(At("2025-12-31")).ShouldBeNull();
        research.MaterialSince(At("2026-01-15")).ShouldBe(new DateOnly(2026, 1, 1));
        research.MaterialSince(At("2026-02-15")).ShouldBe(new DateOnly(2026, 1, 1));
        research.MaterialSince(At("2026-04-01")).ShouldBe(new DateOnly(2026, 4, 1));
        research.MaterialSince(At("2026-06-01")).ShouldBe(new DateOnly(2026, 4, 1));
        research.FindNotice("2026-02")!.Material.ShouldBeFalse();
        research.FindNotice("2025-09")!.Material.ShouldBeFalse();
    }

    [Fact]
    public void MaterialSince_OnlyNonMaterialVersions_IsNull()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("purposes.yaml", ResearchLastText, ResearchLastText + Version("2026-01", "2026-01-01", "material: false"));

        var research = PolicyLoader.Load(policies.Path).FindPurpose("research")!;

        research.MaterialSince(At("2027-01-01")).ShouldBeNull();
        research.CurrentNotice(At("2027-01-01"))!.Version.ShouldBe("2026-01");
    }

    private static void RetireFirstResearchVersion(PolicyDirectory policies) =>
        policies.Replace("purposes.yaml", "        - version: \"2025-09\"\n          effectiveFrom: 2025-09-01\n          texts:\n            - language: fr\n              url: https://teleconsultation.example/notices/research/",
            "        - version: \"2025-09\"\n          effectiveFrom: 2025-09-01\n          retired: true\n          texts:\n            - language: fr\n              url: https://teleconsultation.example/notices/research/");

    private static DateTimeOffset At(string day) => new(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), TimeOnly.MinValue, TimeSpan.Zero);

    private static string Version(string version, string effectiveFrom, string flags) => $"""
                - version: "{version}"
                  effectiveFrom: {effectiveFrom}
                  {flags}
                  texts:
                    - language: fr
                      url: https://teleconsultation.example/notices/research/{version}/fr
                      sha256: {Hash}
                    - language: en
                      url: https://teleconsultation.example/notices/research/{version}/en
                      sha256: {Hash}

        """;
}
