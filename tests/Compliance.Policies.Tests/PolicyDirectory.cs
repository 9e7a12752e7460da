namespace Compliance.Policies.Tests;

/// <summary>A throw-away copy of the shipped policy folder that a test can break on purpose.</summary>
internal sealed class PolicyDirectory : IDisposable
{
    private PolicyDirectory(string path)
    {
        Path = path;
    }

    /// <summary>The repository's policies/ folder, as copied next to the test assembly.</summary>
    public static string Shipped { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "policies");

    public string Path { get; }

    public static PolicyDirectory CopyOfShipped()
    {
        var target = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "compliance-policies-" + Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.EnumerateFiles(Shipped, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(Shipped, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return new PolicyDirectory(target);
    }

    /// <summary>Replaces the only occurrence of <paramref name="oldText"/> and returns the 1-based line where it was.</summary>
    public int Replace(string file, string oldText, string newText)
    {
        var path = System.IO.Path.Combine(Path, file);
        var text = File.ReadAllText(path);
        var index = text.IndexOf(oldText, StringComparison.Ordinal);
        index.ShouldBeGreaterThanOrEqualTo(0, $"'{oldText}' not found in {file}");
        text.IndexOf(oldText, index + 1, StringComparison.Ordinal).ShouldBe(-1, $"'{oldText}' occurs more than once in {file}");
        File.WriteAllText(path, string.Concat(text.AsSpan(0, index), newText, text.AsSpan(index + oldText.Length)));
        return text[..index].Count(c => c == '\n') + 1;
    }

    public void Append(string file, string text) => File.AppendAllText(System.IO.Path.Combine(Path, file), text);

    public void Delete(string file) => File.Delete(System.IO.Path.Combine(Path, file));

    public PolicyValidationException LoadFails() => Should.Throw<PolicyValidationException>(() => PolicyLoader.Load(Path));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
