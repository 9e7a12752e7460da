using System.Security.Cryptography;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>What <c>purposes.yaml</c> declares: data categories and purposes.</summary>
internal sealed class PurposesFile
{
    public const string FileName = "purposes.yaml";

    /// <summary>False when the file could not be read or parsed: references to it are then not checked.</summary>
    public bool Readable { get; init; }

    public Declarations<DataCategory> Categories { get; } = new();

    public Declarations<Purpose> Purposes { get; } = new();
}

/// <summary>Reads and checks <c>purposes.yaml</c>, including the notice texts it points to.</summary>
internal static partial class PurposesParser
{
    private static readonly string[] RootKeys = ["schemaVersion", "dataCategories", "purposes"];
    private static readonly string[] CategoryKeys = ["id", "name", "specialCategory", "healthHosting", "dpv", "retentionNotApplicable"];
    private static readonly string[] PurposeKeys = ["id", "name", "description", "legalBasis", "dataCategories", "dpv", "consent", "scopes", "retired"];
    private static readonly string[] ConsentKeys = ["defaultEnabled", "validity", "notices"];
    private static readonly string[] NoticeKeys = ["version", "effectiveFrom", "texts", "material", "retired"];

    // Scopes the protocol itself defines: they rest on no purpose.
    private static readonly string[] ProtocolScopes = ["openid", "offline_access"];
    private static readonly string[] TextKeys = ["language", "url", "sha256", "file"];

    public static PurposesFile Parse(PolicyDocument document, string directory)
    {
        var root = YamlMap.Open(document, document.Root, PurposesFile.FileName, RootKeys);
        var file = new PurposesFile { Readable = root is not null };
        if (root is null)
        {
            return file;
        }

        SchemaVersion.Check(root);
        foreach (var node in root.Sequence("dataCategories") ?? [])
        {
            ParseCategory(document, node, file);
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        var scopes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var node in root.Sequence("purposes") ?? [])
        {
            ParsePurpose(document, node, directory, file, used, scopes);
        }

        foreach (var (category, node) in file.Categories.WithNodes)
        {
            if (!used.Contains(category.Id))
            {
                document.Error(node, $"data category '{category.Id}' is used by no purpose: remove it or add it to the purposes that process it");
            }
        }

        return file;
    }

    private static void ParseCategory(PolicyDocument document, YamlNode node, PurposesFile file)
    {
        var map = YamlMap.Open(document, node, "data category", CategoryKeys);
        if (map is null)
        {
            return;
        }

        var id = map.Id("id");
        if (id is not null)
        {
            map.What = $"data category '{id}'";
            file.Categories.Reserve(id);
        }

        var name = map.Text("name");
        var special = map.Bool("specialCategory");
        var hosting = map.Bool("healthHosting");
        var dpv = Dpv(map);
        var exemption = map.String("retentionNotApplicable", required: false);
        if (special == true && hosting == false)
        {
            document.Error(map.Value("healthHosting")!, $"{map.What}: health data (specialCategory: true) must also be hosted as health data (healthHosting: true)");
            return;
        }

        if (id is null || name is null || special is null || hosting is null)
        {
            return;
        }

        file.Categories.Add(document, id, new DataCategory(id, name, special.Value, hosting.Value, dpv, exemption), node, "data category");
    }

    private static void ParsePurpose(PolicyDocument document, YamlNode node, string directory, PurposesFile file, HashSet<string> used, Dictionary<string, YamlNode> declaredScopes)
    {
        var map = YamlMap.Open(document, node, "purpose", PurposeKeys);
        if (map is null)
        {
            return;
        }

        var id = map.Id("id");
        if (id is not null)
        {
            map.What = $"purpose '{id}'";
            file.Purposes.Reserve(id);
        }

        var name = map.Text("name");
        var description = map.Text("description");
        var basisId = map.String("legalBasis");
        var basis = basisId is null ? null : LegalBasis.Find(basisId);
        if (basisId is not null && basis is null)
        {
            document.Error(map.Value("legalBasis")!, $"{map.What}: unknown legal basis '{basisId}'{YamlMap.Suggest(basisId, [.. LegalBasis.All.Select(b => b.Id)], "expected one of")}");
        }

        var categories = new List<DataCategory>();
        var valid = true;
        foreach (var (categoryId, categoryNode) in map.IdList("dataCategories"))
        {
            used.Add(categoryId);
            var category = file.Categories.Find(categoryId);
            if (category is null)
            {
                if (!file.Categories.IsDeclared(categoryId))
                {
                    document.Error(categoryNode, $"{map.What}: unknown data category '{categoryId}' (declare it under dataCategories)");
                }

                valid = false;
                continue;
            }

            categories.Add(category);
            if (basis is not null && category.SpecialCategory && !basis.IsSpecialCategoryCondition)
            {
                document.Error(categoryNode, $"{map.What}: '{categoryId}' is health data (GDPR Art. 9) but legal basis '{basis.Id}' is not an Art. 9(2) condition; use one of: {string.Join(", ", LegalBasis.All.Where(b => b.IsSpecialCategoryCondition).Select(b => b.Id))}");
                valid = false;
            }
        }

        var dpv = Dpv(map);
        var scopes = ParseScopes(document, map, declaredScopes);
        valid &= scopes is not null;
        var retired = map.Has("retired") ? map.Bool("retired") : false;
        valid &= retired is not null;
        ConsentTerms? consent = null;
        if (basis is not null)
        {
            if (basis.RequiresConsent)
            {
                consent = ParseConsent(document, map, directory);
                valid &= consent is not null;
                if (consent is not null && retired == false && consent.Notices.All(notice => notice.Retired))
                {
                    document.Error(map.Value("consent")!, $"{map.What}: every notice version is retired, so there is nothing to show; add a version, or retire the purpose");
                    valid = false;
                }
            }
            else if (map.Has("consent"))
            {
                document.Error(map.Value("consent")!, $"{map.What}: 'consent' is only allowed when the legal basis is consent (here: {basis.Id})");
                valid = false;
            }
        }

        if (!valid || id is null || name is null || description is null || basis is null || categories.Count == 0)
        {
            return;
        }

        file.Purposes.Add(document, id, new Purpose(id, name, description, basis, ReadOnly.Copy(categories), dpv, consent)
        {
            Scopes = scopes!,
            Retired = retired!.Value,
        }, node, "purpose");
    }

    // A scope names what a client receives; it rests on one purpose only, so that its legal basis is never ambiguous.
    private static System.Collections.ObjectModel.ReadOnlyCollection<string>? ParseScopes(PolicyDocument document, YamlMap map, Dictionary<string, YamlNode> declared)
    {
        if (!map.Has("scopes"))
        {
            return System.Collections.ObjectModel.ReadOnlyCollection<string>.Empty;
        }

        var items = map.Sequence("scopes", allowEmpty: true);
        if (items is null)
        {
            return null;
        }

        var scopes = new List<string>();
        var valid = true;
        foreach (var item in items)
        {
            if (item is not YamlScalarNode { Value: { } scope } || !ScopePattern().IsMatch(scope))
            {
                document.Error(item, $"{map.What}: each scope must be an OAuth scope name: a lower-case letter, then lower-case letters, digits, '_' or '-', at most 40 characters");
                valid = false;
                continue;
            }

            if (ProtocolScopes.Contains(scope, StringComparer.Ordinal))
            {
                document.Error(item, $"{map.What}: '{scope}' is an OpenID Connect protocol scope and cannot rest on a purpose");
                valid = false;
                continue;
            }

            if (declared.TryGetValue(scope, out var first))
            {
                document.Error(item, $"{map.What}: duplicate scope '{scope}' (first declared at {document.Location(first)}); a scope rests on one purpose only");
                valid = false;
                continue;
            }

            declared[scope] = item;
            scopes.Add(scope);
        }

        return valid ? ReadOnly.Copy(scopes) : null;
    }

    private static ConsentTerms? ParseConsent(PolicyDocument document, YamlMap purpose, string directory)
    {
        var map = purpose.Map("consent", $"{purpose.What}: consent", ConsentKeys);
        if (map is null)
        {
            return null;
        }

        var defaultEnabled = map.Bool("defaultEnabled");
        if (defaultEnabled == true)
        {
            document.Error(map.Value("defaultEnabled")!, $"{purpose.What}: a consent-based purpose cannot be enabled by default (a pre-ticked box is not consent, CJEU C-673/17 Planet49); set defaultEnabled: false");
            defaultEnabled = null;
        }

        var validity = map.Has("validity") ? map.Period("validity") : null;
        var notices = new List<NoticeVersion>();
        var valid = defaultEnabled is not null && (validity is not null || !map.Has("validity"));
        var versions = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var node in map.Sequence("notices") ?? [])
        {
            var notice = ParseNotice(document, node, purpose.What, directory, versions);
            if (notice is null)
            {
                valid = false;
                continue;
            }

            notices.Add(notice);
        }

        if (!valid || notices.Count == 0)
        {
            return null;
        }

        return new ConsentTerms(false, validity, ReadOnly.Copy(notices.OrderBy(notice => notice.EffectiveFrom)));
    }

    private static NoticeVersion? ParseNotice(PolicyDocument document, YamlNode node, string purpose, string directory, Dictionary<string, YamlNode> versions)
    {
        var map = YamlMap.Open(document, node, $"{purpose}: notice", NoticeKeys);
        if (map is null)
        {
            return null;
        }

        var version = map.String("version");
        if (version is not null)
        {
            map.What = $"{purpose}: notice '{version}'";
            if (versions.TryGetValue(version, out var first))
            {
                document.Error(map.Value("version")!, $"{map.What}: duplicate notice version (first declared at {document.Location(first)})");
                version = null;
            }
            else
            {
                versions[version] = map.Value("version")!;
            }
        }

        var effectiveFrom = map.Date("effectiveFrom");
        var material = map.Has("material") ? map.Bool("material") : false;
        var retired = map.Has("retired") ? map.Bool("retired") : false;
        var texts = new List<NoticeText>();
        var valid = true;
        foreach (var textNode in map.Sequence("texts") ?? [])
        {
            var text = ParseNoticeText(document, textNode, map.What, directory);
            if (text is null)
            {
                valid = false;
                continue;
            }

            if (texts.Any(other => other.Language == text.Language))
            {
                document.Error(textNode, $"{map.What}: language '{text.Language}' appears twice");
                valid = false;
                continue;
            }

            texts.Add(text);
        }

        if (valid && map.Has("texts"))
        {
            foreach (var language in PolicyVocabulary.NoticeLanguages.Where(language => texts.All(text => text.Language != language)))
            {
                document.Error(map.Value("texts")!, $"{map.What}: no '{language}' text (every notice is published in {string.Join(" and ", PolicyVocabulary.NoticeLanguages)})");
                valid = false;
            }
        }

        return valid && version is not null && effectiveFrom is not null && texts.Count > 0 && material is not null && retired is not null
            ? new NoticeVersion(version, effectiveFrom.Value, ReadOnly.Copy(texts)) { Material = material.Value, Retired = retired.Value }
            : null;
    }

    private static NoticeText? ParseNoticeText(PolicyDocument document, YamlNode node, string notice, string directory)
    {
        var map = YamlMap.Open(document, node, $"{notice}: text", TextKeys);
        if (map is null)
        {
            return null;
        }

        var language = map.String("language");
        if (language is not null && !PolicyVocabulary.NoticeLanguages.Contains(language))
        {
            document.Error(map.Value("language")!, $"{map.What}: unknown language '{language}' (expected one of: {string.Join(", ", PolicyVocabulary.NoticeLanguages)})");
            language = null;
        }

        if (language is not null)
        {
            map.What = $"{notice} ({language})";
        }

        var urlText = map.String("url");
        Uri? url = null;
        if (urlText is not null && (!Uri.TryCreate(urlText, UriKind.Absolute, out url) || url.Scheme != Uri.UriSchemeHttps))
        {
            document.Error(map.Value("url")!, $"{map.What}: '{urlText}' is not an absolute https URL");
            url = null;
        }

        var sha256 = map.String("sha256");
        if (sha256 is not null && !Sha256Pattern().IsMatch(sha256))
        {
            document.Error(map.Value("sha256")!, $"{map.What}: sha256 must be 64 lowercase hexadecimal characters");
            sha256 = null;
        }

        var textFile = map.String("file", required: false);
        var valid = textFile is null || CheckTextFile(document, map, directory, textFile, sha256);
        return valid && language is not null && url is not null && sha256 is not null
            ? new NoticeText(language, url, sha256, textFile)
            : null;
    }

    // The hash proves which exact text the patient saw (GDPR Art. 7(1)), so a shipped text must match it byte for byte.
    private static bool CheckTextFile(PolicyDocument document, YamlMap map, string directory, string relativePath, string? sha256)
    {
        var fileNode = map.Value("file")!;
        var fullDirectory = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(relativePath, fullDirectory);
        if (Path.IsPathRooted(relativePath) || !path.StartsWith(fullDirectory, StringComparison.Ordinal))
        {
            document.Error(fileNode, $"{map.What}: file '{relativePath}' must be a relative path inside the policy directory");
            return false;
        }

        if (!File.Exists(path))
        {
            document.Error(fileNode, $"{map.What}: notice text '{relativePath}' not found in {directory}");
            return false;
        }

        if (sha256 is null)
        {
            return false;
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        if (actual != sha256)
        {
            document.Error(map.Value("sha256")!, $"{map.What}: sha256 does not match the text in '{relativePath}' (its SHA-256 is {actual}); a changed text needs a new notice version");
            return false;
        }

        return true;
    }

    private static string? Dpv(YamlMap map)
    {
        var dpv = map.String("dpv", required: false);
        if (dpv is not null && !DpvPattern().IsMatch(dpv))
        {
            map.Document.Error(map.Value("dpv")!, $"{map.What}: '{dpv}' is not a DPV concept such as dpv:ServiceProvision or dpv-pd:HealthRecord");
            return null;
        }

        return dpv;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,39}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ScopePattern();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^(dpv|dpv-pd|dpv-health|eu-gdpr):[A-Z][A-Za-z0-9]*$", RegexOptions.CultureInvariant)]
    private static partial Regex DpvPattern();
}
