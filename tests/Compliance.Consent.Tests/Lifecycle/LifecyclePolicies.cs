namespace Compliance.Consent.Tests.Lifecycle;

/// <summary>
/// A copy of <c>policies/</c> in a folder of its own, where research may have a second notice version "2026-11", in
/// force since 2026-11-15, material or not (the same text republished).
/// </summary>
internal sealed class LifecyclePolicies : IDisposable
{
    public const string Before = "2025-09";
    public const string After = "2026-11";

    public LifecyclePolicies(bool? materialVersion)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(Folder, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy, overwrite: true);
        }

        if (materialVersion is not { } material)
        {
            return;
        }

        var purposes = Path.Combine(Folder, "purposes.yaml");
        var text = File.ReadAllText(purposes);
        const string anchor = "              file: notices/research/2025-09.en.md\n";
        text.ShouldContain(anchor);
        File.WriteAllText(purposes, text.Replace(anchor, anchor + $"""
                    - version: "{After}"
                      effectiveFrom: 2026-11-15
                      material: {(material ? "true" : "false")}
                      texts:
                        - language: fr
                          url: https://teleconsultation.example/notices/research/2026-11/fr
                          sha256: d663a443777bf62a41d4929c222f5f5cfdc41ee0ceede965bcdb77c341d31897
                          file: notices/research/2025-09.fr.md
                        - language: en
                          url: https://teleconsultation.example/notices/research/2026-11/en
                          sha256: a1e189fb4133135d1e59c802ade398992d7ce6e2b3cd30edfb82aab6a2079126
                          file: notices/research/2025-09.en.md

            """, StringComparison.Ordinal));
    }

    public string Folder { get; } = Directory.CreateTempSubdirectory("compliance-lifecycle-policies-").FullName;

    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Policies:Directory"] = Folder };

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
