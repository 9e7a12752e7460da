using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>What <c>processing-register.yaml</c> declares.</summary>
internal sealed class RegisterFile
{
    public const string FileName = "processing-register.yaml";

    public bool Readable { get; init; }

    public Controller? Controller { get; set; }

    public Declarations<RegisterEntry> Entries { get; } = new();
}

/// <summary>Reads the Art. 30 register and checks it against the purposes, categories and retention rules.</summary>
internal static class RegisterParser
{
    private static readonly string[] RootKeys = ["schemaVersion", "controller", "subjectCategories", "recipients", "securityMeasures", "entries"];
    private static readonly string[] ControllerKeys = ["name", "address", "contact", "representative", "dataProtectionOfficer"];
    private static readonly string[] OfficerKeys = ["name", "contact"];
    private static readonly string[] SubjectKeys = ["id", "name"];
    private static readonly string[] RecipientKeys = ["id", "name", "kind"];
    private static readonly string[] MeasureKeys = ["id", "description"];
    private static readonly string[] EntryKeys = ["id", "name", "purposes", "subjectCategories", "dataCategories", "recipients", "transfers", "securityMeasures"];
    private static readonly string[] TransferKeys = ["recipient", "country", "safeguard"];

    public static RegisterFile Parse(PolicyDocument document, PurposesFile purposes, RetentionFile retention)
    {
        var root = YamlMap.Open(document, document.Root, RegisterFile.FileName, RootKeys);
        var file = new RegisterFile { Readable = root is not null };
        if (root is null)
        {
            return file;
        }

        SchemaVersion.Check(root);
        file.Controller = ParseController(root);
        var subjects = Catalogue(root, "subjectCategories", "subject category", SubjectKeys, (map, id) =>
            map.Text("name") is { } name ? new SubjectCategory(id, name) : null);
        var recipients = Catalogue(root, "recipients", "recipient", RecipientKeys, (map, id) =>
            (map.Text("name"), map.Choice("kind", PolicyVocabulary.RecipientKinds, "recipient kind")) is ({ } name, { } kind)
                ? new Recipient(id, name, kind)
                : null);
        var measures = Catalogue(root, "securityMeasures", "security measure", MeasureKeys, (map, id) =>
            map.Text("description") is { } description ? new SecurityMeasure(id, description) : null);

        var registered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in root.Sequence("entries") ?? [])
        {
            ParseEntry(document, node, new Catalogues(purposes, retention, subjects, recipients, measures), file, registered);
        }

        if (purposes.Readable && root.Has("entries"))
        {
            foreach (var (purpose, node) in purposes.Purposes.WithNodes.Where(pair => !registered.Contains(pair.Item.Id)))
            {
                document.Error(root.Value("entries")!, $"purpose '{purpose.Id}' ({PurposesFile.FileName}:{node.Start.Line}) appears in no register entry (GDPR Art. 30 lists every processing)");
            }
        }

        return file;
    }

    private static Controller? ParseController(YamlMap root)
    {
        var map = root.Map("controller", "controller", ControllerKeys);
        if (map is null)
        {
            return null;
        }

        var name = map.String("name");
        var address = map.String("address");
        var contact = map.String("contact");
        var representative = map.String("representative", required: false);
        var officerMap = map.Map("dataProtectionOfficer", "controller: dataProtectionOfficer", OfficerKeys);
        var officerName = officerMap?.String("name");
        var officerContact = officerMap?.String("contact");
        return name is null || address is null || contact is null || officerName is null || officerContact is null
            ? null
            : new Controller(name, address, contact, representative, new DataProtectionOfficer(officerName, officerContact));
    }

    private static Declarations<T> Catalogue<T>(YamlMap root, string key, string noun, string[] keys, Func<YamlMap, string, T?> read)
        where T : class
    {
        var declarations = new Declarations<T>();
        foreach (var node in root.Sequence(key) ?? [])
        {
            var map = YamlMap.Open(root.Document, node, noun, keys);
            var id = map?.Id("id");
            if (map is null || id is null)
            {
                continue;
            }

            map.What = $"{noun} '{id}'";
            declarations.Reserve(id);
            if (read(map, id) is { } item)
            {
                declarations.Add(root.Document, id, item, node, noun);
            }
        }

        return declarations;
    }

    private static void ParseEntry(PolicyDocument document, YamlNode node, Catalogues catalogues, RegisterFile file, HashSet<string> registered)
    {
        var map = YamlMap.Open(document, node, "register entry", EntryKeys);
        if (map is null)
        {
            return;
        }

        var id = map.Id("id");
        if (id is not null)
        {
            map.What = $"register entry '{id}'";
            file.Entries.Reserve(id);
        }

        var name = map.Text("name");
        var valid = true;
        var purposeReferences = map.IdList("purposes");
        var purposes = Resolve(map, purposeReferences, catalogues.Purposes.Purposes, "purpose", $"not declared in {PurposesFile.FileName}", catalogues.Purposes.Readable, ref valid);
        foreach (var purpose in purposes)
        {
            registered.Add(purpose.Id);
        }

        var subjects = Resolve(map, map.IdList("subjectCategories"), catalogues.Subjects, "subject category", "declare it under subjectCategories", true, ref valid);
        var categoryReferences = map.IdList("dataCategories");
        var categories = Resolve(map, categoryReferences, catalogues.Purposes.Categories, "data category", $"not declared in {PurposesFile.FileName}", catalogues.Purposes.Readable, ref valid);
        var recipients = Resolve(map, map.IdList("recipients", allowEmpty: true), catalogues.Recipients, "recipient", "declare it under recipients", true, ref valid);
        var measures = Resolve(map, map.IdList("securityMeasures"), catalogues.Measures, "security measure", "declare it under securityMeasures", true, ref valid);
        if (purposes.Count == purposeReferences.Count)
        {
            // Only when every purpose resolved: an invalid purpose is reported in its own file, not again here.
            valid &= CheckCategoriesMatchPurposes(map, purposes, categories, categoryReferences);
        }
        var transfers = ParseTransfers(map, recipients, categories, ref valid);

        if (!valid || id is null || name is null)
        {
            return;
        }

        var limits = categories.Select(category => catalogues.Retention.Rules.Items.FirstOrDefault(rule => rule.DataCategory.Id == category.Id))
            .OfType<RetentionRule>()
            .ToList();
        file.Entries.Add(document, id, new RegisterEntry(id, name, ReadOnly.Copy(purposes), ReadOnly.Copy(subjects), ReadOnly.Copy(categories), ReadOnly.Copy(recipients), ReadOnly.Copy(transfers), ReadOnly.Copy(limits), ReadOnly.Copy(measures)), node, "register entry");
    }

    private static List<T> Resolve<T>(YamlMap map, IReadOnlyList<(string Id, YamlNode Node)> references, Declarations<T> declarations, string noun, string hint, bool check, ref bool valid)
        where T : class
    {
        var resolved = new List<T>();

        foreach (var (referenceId, node) in references)
        {
            if (declarations.Find(referenceId) is { } item)
            {
                resolved.Add(item);
                continue;
            }

            valid = false;
            if (check && !declarations.IsDeclared(referenceId))
            {
                map.Document.Error(node, $"{map.What}: unknown {noun} '{referenceId}' ({hint})");
            }
        }

        return resolved;
    }

    // Art. 30 must list every category the purposes process, and nothing they do not.
    private static bool CheckCategoriesMatchPurposes(YamlMap map, List<Purpose> purposes, List<DataCategory> categories, IReadOnlyList<(string Id, YamlNode Node)> references)
    {
        var valid = true;
        var listed = categories.Select(category => category.Id).ToHashSet(StringComparer.Ordinal);
        var processed = purposes.SelectMany(purpose => purpose.DataCategories).Select(category => category.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var purpose in purposes)
        {
            foreach (var missing in purpose.DataCategories.Where(category => !listed.Contains(category.Id)))
            {
                map.Document.Error(map.Value("dataCategories", required: false) ?? map.Node, $"{map.What}: purpose '{purpose.Id}' processes '{missing.Id}', which dataCategories does not list");
                valid = false;
            }
        }

        foreach (var (categoryId, node) in references.Where(pair => listed.Contains(pair.Id) && !processed.Contains(pair.Id)))
        {
            map.Document.Error(node, $"{map.What}: data category '{categoryId}' is processed by none of the entry's purposes");
            valid = false;
        }

        return valid;
    }

    private static List<Transfer> ParseTransfers(YamlMap map, List<Recipient> recipients, List<DataCategory> categories, ref bool valid)
    {
        var transfers = new List<Transfer>();
        foreach (var node in map.Sequence("transfers", allowEmpty: true) ?? [])
        {
            var transfer = YamlMap.Open(map.Document, node, $"{map.What}: transfer", TransferKeys);
            if (transfer is null)
            {
                valid = false;
                continue;
            }

            var recipientId = transfer.Id("recipient");
            var recipient = recipients.FirstOrDefault(candidate => candidate.Id == recipientId);
            if (recipientId is not null && recipient is null)
            {
                map.Document.Error(transfer.Value("recipient")!, $"{transfer.What}: recipient '{recipientId}' is not among the entry's recipients");
            }

            var country = transfer.String("country");
            if (country is not null && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
            {
                map.Document.Error(transfer.Value("country")!, $"{transfer.What}: country must be an ISO 3166-1 alpha-2 code such as US or CH");
                country = null;
            }
            else if (country is not null && PolicyVocabulary.EeaCountries.Contains(country))
            {
                map.Document.Error(transfer.Value("country")!, $"{transfer.What}: {country} is in the EEA, so this is not a transfer; remove it");
                country = null;
            }
            else if (country is not null && categories.FirstOrDefault(category => category.HealthHosting) is { } health)
            {
                map.Document.Error(transfer.Value("country")!, $"{transfer.What}: the entry processes '{health.Id}', which is hosted as health data and must stay in the EEA");
                country = null;
            }

            var safeguard = transfer.Choice("safeguard", PolicyVocabulary.Safeguards, "transfer safeguard");
            if (recipient is null || country is null || safeguard is null)
            {
                valid = false;
                continue;
            }

            transfers.Add(new Transfer(recipient, country, safeguard.Value));
        }

        return transfers;
    }

    private sealed record Catalogues(
        PurposesFile Purposes,
        RetentionFile Retention,
        Declarations<SubjectCategory> Subjects,
        Declarations<Recipient> Recipients,
        Declarations<SecurityMeasure> Measures);
}
