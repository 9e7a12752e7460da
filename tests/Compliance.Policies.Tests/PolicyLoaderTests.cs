namespace Compliance.Policies.Tests;

/// <summary>Broken copies of the shipped files: each error must name the file and line to fix.</summary>
public class PolicyLoaderTests
{
    [Fact]
    public void Load_YamlSyntaxError_ReportsFileAndLineInsteadOfYamlException()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("retention.yaml", "    trigger: last-consultation\n", "    trigger: [last-consultation\n");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(error => error.File == "retention.yaml" && error.Line >= line && error.Line <= line + 1);
    }

    [Fact]
    public void Load_BadIndentation_ReportsTheLineOfTheBadKey()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("processing-register.yaml", "  address: \"12 rue", "   address: \"12 rue");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(error => error.File == "processing-register.yaml" && error.Line == line);
    }

    [Fact]
    public void Load_TabIndentation_ReportsTheLineOfTheTab()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "    legalBasis: contract", "\tlegalBasis: contract");

        var exception = policies.LoadFails();

        var error = exception.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe("purposes.yaml");
        error.Line.ShouldBe(line);
        error.Message.ShouldContain("tab");
    }

    [Fact]
    public void Load_UnknownKey_ReportsKeyAndSuggestsTheRightOne()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "    legalBasis: contract", "    legalBase: contract");

        var exception = policies.LoadFails();

        var error = exception.Errors.Where(e => e.Message.Contains("legalBase'", StringComparison.Ordinal)).ShouldHaveSingleItem();
        error.File.ShouldBe("purposes.yaml");
        error.Line.ShouldBe(line);
        error.Column.ShouldBe(5);
        error.Message.ShouldContain("did you mean 'legalBasis'?");
        error.Message.ShouldStartWith("purpose 'account-management':");
    }

    [Fact]
    public void Load_UnknownLegalBasis_ReportsTheLineOfTheValue()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "legalBasis: provision-of-care", "legalBasis: provision-of-cure");

        var exception = policies.LoadFails();

        var error = exception.Errors.Where(e => e.Message.Contains("unknown legal basis", StringComparison.Ordinal)).ShouldHaveSingleItem();
        error.ShouldBe(error with { File = "purposes.yaml", Line = line });
        error.Message.ShouldContain("provision-of-care");
    }

    [Fact]
    public void Load_BadDuration_ReportsTheLineOfThePeriod()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("retention.yaml", "    period: P1Y\n    trigger: event", "    period: 1 year\n    trigger: event");

        var exception = policies.LoadFails();

        var error = exception.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe("retention.yaml");
        error.Line.ShouldBe(line);
        error.Message.ShouldContain("'1 year'");
    }

    [Fact]
    public void Load_DuplicateId_ReportsTheSecondDeclarationAndTheFirst()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var first = policies.Replace("processing-register.yaml", "  - id: health-research", "  - id: health-research");
        var line = policies.Replace("processing-register.yaml", "  - id: newsletter\n", "  - id: health-research\n");

        var exception = policies.LoadFails();

        var error = exception.Errors.Where(e => e.Message.Contains("duplicate", StringComparison.Ordinal)).ShouldHaveSingleItem();
        error.File.ShouldBe("processing-register.yaml");
        error.Line.ShouldBe(line);
        error.Message.ShouldContain($"processing-register.yaml:{first}");
    }

    [Fact]
    public void Load_DanglingCategoryReference_ReportsTheReferenceInRetentionFile()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("retention.yaml", "dataCategory: research-dataset", "dataCategory: research-data");

        var exception = policies.LoadFails();

        var error = exception.Errors.Where(e => e.File == "retention.yaml").ShouldHaveSingleItem();
        error.Line.ShouldBe(line);
        error.Message.ShouldContain("unknown data category 'research-data'");
    }

    [Fact]
    public void Load_CategoryWithoutRetentionRule_ReportsTheCategoryDeclaration()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("retention.yaml", "dataCategory: research-dataset", "dataCategory: newsletter-subscription");
        var line = File.ReadAllLines(Path.Combine(policies.Path, "purposes.yaml")).ToList().IndexOf("  - id: research-dataset") + 1;

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "purposes.yaml" && e.Line == line && e.Message.Contains("no retention rule", StringComparison.Ordinal));
        exception.Errors.ShouldContain(e => e.File == "retention.yaml" && e.Message.Contains("already has a retention rule", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_RegisterNamesUnknownPurpose_ReportsTheReference()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("processing-register.yaml", "purposes: [care]", "purposes: [cares]");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "processing-register.yaml" && e.Line == line && e.Message.Contains("unknown purpose 'cares'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingFile_ReportsTheFileAtLineZero()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Delete("retention.yaml");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "retention.yaml" && e.Line == 0 && e.Message.Contains("not found", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingDirectory_ReportsTheDirectory()
    {
        var missing = Path.Combine(Path.GetTempPath(), "compliance-policies-missing-" + Guid.NewGuid().ToString("N"));

        var exception = Should.Throw<PolicyValidationException>(() => PolicyLoader.Load(missing));

        exception.Errors.ShouldHaveSingleItem().ShouldBe(new PolicyError(missing, 0, 0, "policy directory not found (set Policies:Directory)"));
    }

    [Fact]
    public void Load_NoticeTextChangedWithoutNewHash_ReportsTheHashLine()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Append("notices/research/2025-09.en.md", "One more sentence the patient never saw.\n");
        var line = File.ReadAllLines(Path.Combine(policies.Path, "purposes.yaml")).ToList()
            .FindIndex(text => text.Contains("sha256: a1e189fb", StringComparison.Ordinal)) + 1;

        var exception = policies.LoadFails();

        var error = exception.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe("purposes.yaml");
        error.Line.ShouldBe(line);
        error.Message.ShouldContain("does not match");
    }

    [Fact]
    public void Load_MalformedNoticeHash_ReportsTheHashLine()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "sha256: 5c27e8257f6f5d081402329053ac4c4bbfb3dbbb5dd15f2cc90ffff22bd26232", "sha256: 5C27E8257F6F5D08");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "purposes.yaml" && e.Line == line && e.Message.Contains("64 lowercase hexadecimal", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ConsentPurposeEnabledByDefault_IsRejected()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "defaultEnabled: false        # opt-in only", "defaultEnabled: true");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "purposes.yaml" && e.Line == line && e.Message.Contains("pre-ticked", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_HealthDataUnderNonArticle9Basis_IsRejected()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace("purposes.yaml", "legalBasis: provision-of-care", "legalBasis: contract");

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "purposes.yaml" && e.Line == line + 1 && e.Message.Contains("Art. 9(2) condition", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_HealthDataTransferredOutsideEea_IsRejected()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var line = policies.Replace(
            "processing-register.yaml",
            "    recipients: [research-teams, hds-host]\n    transfers: []",
            "    recipients: [research-teams, hds-host]\n    transfers:\n      - { recipient: research-teams, country: US, safeguard: standard-contractual-clauses }") + 2;

        var exception = policies.LoadFails();

        exception.Errors.ShouldContain(e => e.File == "processing-register.yaml" && e.Line == line && e.Message.Contains("must stay in the EEA", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_SeveralFilesBroken_CollectsEveryErrorInFileOrder()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        policies.Replace("processing-register.yaml", "purposes: [care]", "purposes: [cares]");
        policies.Replace("retention.yaml", "    period: P1Y\n    trigger: event", "    period: P1Y2\n    trigger: event");
        policies.Replace("purposes.yaml", "legalBasis: provision-of-care", "legalBasis: provision-of-cure");

        var exception = policies.LoadFails();

        exception.Errors.Select(e => e.File).Distinct().ShouldBe(["purposes.yaml", "retention.yaml", "processing-register.yaml"]);
        exception.Message.ShouldStartWith("Policy files are invalid:\npurposes.yaml:");
        exception.Message.Split('\n').Length.ShouldBe(exception.Errors.Count + 1);
    }

    [Fact]
    public void ToString_PolicyError_IsFileLineColumnReason()
    {
        var error = new PolicyError("purposes.yaml", 12, 5, "unknown key 'nmae'");

        error.ToString().ShouldBe("purposes.yaml:12:5: unknown key 'nmae'");
    }

    [Fact]
    public void Fingerprint_FileChanged_Changes()
    {
        using var policies = PolicyDirectory.CopyOfShipped();
        var before = PolicyLoader.Load(policies.Path).Fingerprint;
        policies.Replace("retention.yaml", "    period: P1Y\n    trigger: event", "    period: P6M\n    trigger: event");

        var after = PolicyLoader.Load(policies.Path).Fingerprint;

        after.ShouldNotBe(before);
        after.ShouldMatch("^[0-9a-f]{64}$");
    }

    [Fact]
    public void Fingerprint_SameFilesInAnotherDirectory_IsTheSame()
    {
        using var policies = PolicyDirectory.CopyOfShipped();

        var copy = PolicyLoader.Load(policies.Path).Fingerprint;

        copy.ShouldBe(PolicyLoader.Load(PolicyDirectory.Shipped).Fingerprint);
    }
}
