namespace Compliance.Policies.Parsing;

internal static class SchemaVersion
{
    /// <summary>The only schema version this code reads; bump it with a migration note in policies/README.md.</summary>
    public const string Current = "1";

    public static void Check(YamlMap root)
    {
        var version = root.String("schemaVersion");
        if (version is not null && version != Current)
        {
            root.Document.Error(root.Value("schemaVersion")!, $"unsupported schemaVersion '{version}' (this service reads version {Current})");
        }
    }
}
