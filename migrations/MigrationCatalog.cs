using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;

namespace Compliance.Migrations;

/// <summary>
/// The migrations shipped with this build, read from the embedded <c>store/provider/NNNN_name.sql</c> files.
/// </summary>
public static class MigrationCatalog
{
    /// <summary>The stores that have their own migrations: <c>compliance</c> and <c>vault</c>.</summary>
    public static IReadOnlyList<string> Stores { get; } = ["compliance", "vault"];

    /// <summary>The providers that have scripts: <c>postgresql</c> and <c>sqlite</c>.</summary>
    public static IReadOnlyList<string> Providers { get; } = ["postgresql", "sqlite"];

    // Read once per store and provider: the readiness probe asks on every call.
    private static readonly ConcurrentDictionary<(string Store, string Provider), IReadOnlyList<MigrationScript>> Cache = new();

    /// <summary>The ordered migrations of a store for a provider.</summary>
    public static IReadOnlyList<MigrationScript> For(string store, string provider) =>
        Cache.GetOrAdd((store, provider), static key => Load(key.Store, key.Provider));

    private static System.Collections.ObjectModel.ReadOnlyCollection<MigrationScript> Load(string store, string provider)
    {
        var prefix = $"{store}/{provider}/";
        var assembly = typeof(MigrationCatalog).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => Read(assembly, name, name[prefix.Length..^4]))
            .OrderBy(script => script.Version)
            .ToList();

        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations of {store}/{provider} share version {duplicate.Key}.");
        }

        return scripts.AsReadOnly();
    }

    private static MigrationScript Read(Assembly assembly, string resource, string fileName)
    {
        var separator = fileName.IndexOf('_', StringComparison.Ordinal);
        if (separator <= 0 || !int.TryParse(fileName.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new InvalidOperationException($"Migration '{resource}' must be named NNNN_name.sql.");
        }

        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Migration '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return new MigrationScript(version, fileName[(separator + 1)..], reader.ReadToEnd());
    }
}
