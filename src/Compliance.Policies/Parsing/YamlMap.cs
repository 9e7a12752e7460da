using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>
/// A YAML mapping read against a fixed list of keys. Unknown keys are reported as soon as the
/// mapping is opened, so that a typo never passes silently; every accessor reports what is
/// missing or malformed at the line of the offending node and returns null.
/// </summary>
internal sealed partial class YamlMap
{
    private readonly Dictionary<string, YamlNode> values = new(StringComparer.Ordinal);

    private YamlMap(PolicyDocument document, YamlMappingNode node, string what)
    {
        Document = document;
        Node = node;
        What = what;
    }

    public PolicyDocument Document { get; }

    public YamlMappingNode Node { get; }

    /// <summary>What the mapping describes in error messages, e.g. "purpose 'care'".</summary>
    public string What { get; set; }

    public static YamlMap? Open(PolicyDocument document, YamlNode? node, string what, IReadOnlyList<string> keys)
    {
        if (node is not YamlMappingNode mapping)
        {
            if (node is not null)
            {
                document.Error(node, $"{what} must be a mapping of keys to values");
            }

            return null;
        }

        // Name the item by its id as early as possible, so that even an unknown-key error says which one.
        if (mapping.Children.TryGetValue(new YamlScalarNode("id"), out var idNode) && idNode is YamlScalarNode { Value: { Length: > 0 } id })
        {
            what = $"{what} '{id}'";
        }

        var map = new YamlMap(document, mapping, what);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                document.Error(keyNode, $"{what}: keys must be plain words");
                continue;
            }

            if (!keys.Contains(key, StringComparer.Ordinal))
            {
                document.Error(keyNode, $"{what}: unknown key '{key}'{Suggest(key, keys, "allowed keys")}");
                continue;
            }

            map.values[key] = value;
        }

        return map;
    }

    public bool Has(string key) => values.TryGetValue(key, out var node) && !IsNull(node);

    /// <summary>The node under <paramref name="key"/>, or null (reported when required) when absent or empty.</summary>
    public YamlNode? Value(string key, bool required = true)
    {
        if (values.TryGetValue(key, out var node) && !IsNull(node))
        {
            return node;
        }

        if (required)
        {
            Document.Error(node ?? (YamlNode)Node, $"{What}: '{key}' is required");
        }

        return null;
    }

    public string? String(string key, bool required = true)
    {
        var node = Value(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            Document.Error(node, $"{What}: '{key}' must be a single text value");
            return null;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            Document.Error(node, $"{What}: '{key}' must not be blank");
            return null;
        }

        return text;
    }

    public string? Id(string key, bool required = true)
    {
        var text = String(key, required);
        return text is not null && CheckId(Document, Value(key)!, text, What) ? text : null;
    }

    public bool? Bool(string key, bool required = true)
    {
        var node = Value(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } scalar)
        {
            return scalar.Value == "true";
        }

        Document.Error(node, $"{What}: '{key}' must be true or false");
        return null;
    }

    public IsoPeriod? Period(string key, bool required = true)
    {
        var text = String(key, required);
        if (text is null)
        {
            return null;
        }

        if (IsoPeriod.TryParse(text, out var period, out var error))
        {
            return period;
        }

        Document.Error(Value(key)!, $"{What}: '{key}': {error}");
        return null;
    }

    public DateOnly? Date(string key, bool required = true)
    {
        var text = String(key, required);
        if (text is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        Document.Error(Value(key)!, $"{What}: '{key}': '{text}' is not a date in the form YYYY-MM-DD");
        return null;
    }

    /// <summary>A value from a closed vocabulary, reported with the allowed words and a suggestion.</summary>
    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> allowed, string noun, bool required = true)
        where T : struct
    {
        var text = String(key, required);
        if (text is null)
        {
            return null;
        }

        if (allowed.TryGetValue(text, out var value))
        {
            return value;
        }

        Document.Error(Value(key)!, $"{What}: unknown {noun} '{text}'{Suggest(text, [.. allowed.Keys], "expected one of")}");
        return null;
    }

    public YamlMap? Map(string key, string what, IReadOnlyList<string> keys, bool required = true) =>
        Open(Document, Value(key, required), what, keys);

    /// <summary>The items of a sequence; null when absent or malformed (reported).</summary>
    public IReadOnlyList<YamlNode>? Sequence(string key, bool required = true, bool allowEmpty = false)
    {
        var node = Value(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            Document.Error(node, $"{What}: '{key}' must be a list");
            return null;
        }

        if (!allowEmpty && sequence.Children.Count == 0)
        {
            Document.Error(node, $"{What}: '{key}' must list at least one item");
            return null;
        }

        return [.. sequence.Children];
    }

    /// <summary>A list of ids (references to other declarations), each with its node for error locations.</summary>
    public IReadOnlyList<(string Id, YamlNode Node)> IdList(string key, bool required = true, bool allowEmpty = false)
    {
        var items = Sequence(key, required, allowEmpty);
        if (items is null)
        {
            return [];
        }

        var result = new List<(string, YamlNode)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (item is not YamlScalarNode { Value: { } id } || string.IsNullOrWhiteSpace(id))
            {
                Document.Error(item, $"{What}: each item of '{key}' must be an id");
                continue;
            }

            if (!CheckId(Document, item, id, What))
            {
                continue;
            }

            if (!seen.Add(id))
            {
                Document.Error(item, $"{What}: '{key}' lists '{id}' twice");
                continue;
            }

            result.Add((id, item));
        }

        return result;
    }

    public LocalizedText? Text(string key, bool required = true)
    {
        var map = Map(key, $"{What}: '{key}'", ["fr", "en"], required);
        if (map is null)
        {
            return null;
        }

        var fr = map.String("fr");
        var en = map.String("en");
        return fr is null || en is null ? null : new LocalizedText(fr, en);
    }

    public static bool CheckId(PolicyDocument document, YamlNode node, string id, string what)
    {
        if (IdPattern().IsMatch(id))
        {
            return true;
        }

        document.Error(node, $"{what}: '{id}' is not a valid id: use lowercase letters, digits and single hyphens, at most 64 characters (e.g. account-management)");
        return false;
    }

    /// <summary>" (did you mean 'x'?)" for a near miss, otherwise the allowed words.</summary>
    public static string Suggest(string actual, IReadOnlyList<string> allowed, string label)
    {
        var nearest = allowed
            .Select(candidate => (Candidate: candidate, Distance: Distance(actual.ToUpperInvariant(), candidate.ToUpperInvariant())))
            .OrderBy(pair => pair.Distance)
            .FirstOrDefault();
        return nearest.Candidate is not null && nearest.Distance <= Math.Max(2, actual.Length / 4)
            ? $" (did you mean '{nearest.Candidate}'?)"
            : $" ({label}: {string.Join(", ", allowed)})";
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    // Levenshtein distance, to suggest the key or word a typo was meant to be.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    [GeneratedRegex("^(?=.{1,64}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
