using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>What <c>retention.yaml</c> declares, with the node of each rule's category reference.</summary>
internal sealed class RetentionFile
{
    public const string FileName = "retention.yaml";

    public bool Readable { get; init; }

    public Declarations<RetentionRule> Rules { get; } = new();

    /// <summary>Category id -> the 'dataCategory' node of the rule that covers it (also for rules that failed validation).</summary>
    public Dictionary<string, YamlNode> CoveredCategories { get; } = new(StringComparer.Ordinal);
}

/// <summary>Reads <c>retention.yaml</c> and checks its references to the data categories of <c>purposes.yaml</c>.</summary>
internal static class RetentionParser
{
    private static readonly string[] RootKeys = ["schemaVersion", "rules"];
    private static readonly string[] RuleKeys = ["id", "dataCategory", "period", "trigger", "action", "legalHold", "notBefore", "afterDeath", "reference", "justification"];
    private static readonly string[] ExtensionKeys = ["trigger", "period"];

    public static RetentionFile Parse(PolicyDocument document, PurposesFile purposes)
    {
        var root = YamlMap.Open(document, document.Root, RetentionFile.FileName, RootKeys);
        var file = new RetentionFile { Readable = root is not null };
        if (root is null)
        {
            return file;
        }

        SchemaVersion.Check(root);
        foreach (var node in root.Sequence("rules") ?? [])
        {
            ParseRule(document, node, purposes, file);
        }

        return file;
    }

    private static void ParseRule(PolicyDocument document, YamlNode node, PurposesFile purposes, RetentionFile file)
    {
        var map = YamlMap.Open(document, node, "retention rule", RuleKeys);
        if (map is null)
        {
            return;
        }

        var id = map.Id("id");
        if (id is not null)
        {
            map.What = $"retention rule '{id}'";
            file.Rules.Reserve(id);
        }

        var category = ResolveCategory(document, map, purposes, file);
        var period = map.Period("period");
        var trigger = map.Choice("trigger", PolicyVocabulary.Triggers, "trigger");
        var action = map.Choice("action", PolicyVocabulary.Actions, "action");
        var legalHold = map.Choice("legalHold", PolicyVocabulary.LegalHolds, "legal-hold behaviour");
        var reference = map.String("reference");
        var justification = map.String("justification", required: false);
        if (legalHold == LegalHoldBehaviour.Ignore && justification is null)
        {
            document.Error(map.Value("legalHold")!, $"{map.What}: 'legalHold: ignore' needs a 'justification' (litigation normally suspends every period)");
            legalHold = null;
        }

        var valid = true;
        var extensions = new List<RetentionExtension>();
        foreach (var extensionNode in map.Sequence("notBefore", required: false) ?? [])
        {
            var extension = YamlMap.Open(document, extensionNode, $"{map.What}: notBefore", ExtensionKeys);
            var extensionTrigger = extension?.Choice("trigger", PolicyVocabulary.Triggers, "trigger");
            var extensionPeriod = extension?.Period("period");
            if (extensionTrigger is null || extensionPeriod is null)
            {
                valid = false;
                continue;
            }

            extensions.Add(new RetentionExtension(extensionTrigger.Value, extensionPeriod.Value));
        }

        IsoPeriod? afterDeath = null;
        if (map.Has("afterDeath"))
        {
            afterDeath = map.Period("afterDeath");
            valid &= afterDeath is not null;
        }

        if (!valid || id is null || category is null || period is null || trigger is null || action is null || legalHold is null || reference is null)
        {
            return;
        }

        var rule = new RetentionRule(id, category, period.Value, trigger.Value, action.Value, legalHold.Value, ReadOnly.Copy(extensions), afterDeath, reference, justification);
        file.Rules.Add(document, id, rule, node, "retention rule");
    }

    private static DataCategory? ResolveCategory(PolicyDocument document, YamlMap map, PurposesFile purposes, RetentionFile file)
    {
        var categoryId = map.Id("dataCategory");
        if (categoryId is null)
        {
            return null;
        }

        var node = map.Value("dataCategory")!;
        if (file.CoveredCategories.TryGetValue(categoryId, out var first))
        {
            document.Error(node, $"{map.What}: data category '{categoryId}' already has a retention rule (at {document.Location(first)}); keep one rule per category");
            return null;
        }

        file.CoveredCategories[categoryId] = node;
        if (!purposes.Readable)
        {
            return null;
        }

        var category = purposes.Categories.Find(categoryId);
        if (category is null && !purposes.Categories.IsDeclared(categoryId))
        {
            document.Error(node, $"{map.What}: unknown data category '{categoryId}' (not declared in {PurposesFile.FileName})");
        }

        if (category?.RetentionNotApplicable is not null)
        {
            document.Error(node, $"{map.What}: {PurposesFile.FileName} says no retention rule applies to '{categoryId}' (retentionNotApplicable); remove one or the other");
            return null;
        }

        return category;
    }
}
