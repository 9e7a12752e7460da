using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>Items declared in a file, by id, with the node that declared them (for error locations).</summary>
internal sealed class Declarations<T>
    where T : class
{
    private readonly Dictionary<string, (T Item, YamlNode Node)> byId = new(StringComparer.Ordinal);
    private readonly List<T> items = [];
    private readonly HashSet<string> reserved = new(StringComparer.Ordinal);

    public IReadOnlyList<T> Items => items;

    public IEnumerable<(T Item, YamlNode Node)> WithNodes => byId.Values;

    /// <summary>Adds the item, or reports a duplicate id at <paramref name="node"/> naming the first declaration.</summary>
    public void Add(PolicyDocument document, string id, T item, YamlNode node, string noun)
    {
        if (byId.TryGetValue(id, out var first))
        {
            document.Error(node, $"duplicate {noun} id '{id}' (first declared at {document.Location(first.Node)})");
            return;
        }

        byId[id] = (item, node);
        items.Add(item);
    }

    /// <summary>Marks the id of an item that failed validation as declared, so that references to it do not cascade into "unknown id" errors.</summary>
    public void Reserve(string id) => reserved.Add(id);

    public bool IsDeclared(string id) => reserved.Contains(id) || byId.ContainsKey(id);

    public T? Find(string id) => byId.TryGetValue(id, out var entry) ? entry.Item : null;

    public YamlNode? NodeOf(string id) => byId.TryGetValue(id, out var entry) ? entry.Node : null;
}
