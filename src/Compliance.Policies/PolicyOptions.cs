namespace Compliance.Policies;

/// <summary>
/// Where the policy files (<c>purposes.yaml</c>, <c>retention.yaml</c>, <c>processing-register.yaml</c>
/// and <c>notices/</c>) are read from. Bound from the <c>Policies</c> configuration section.
/// </summary>
public sealed class PolicyOptions
{
    public const string SectionName = "Policies";

    /// <summary>
    /// The policy directory. Default: <c>&lt;AppContext.BaseDirectory&gt;/policies</c>.
    /// A relative path is resolved against <see cref="AppContext.BaseDirectory"/>, not the current
    /// directory, so that a service starts the same way whatever its working directory.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The full path of the policy directory (see <see cref="Directory"/>).</summary>
    public string ResolveDirectory() =>
        string.IsNullOrWhiteSpace(Directory)
            ? Path.Combine(AppContext.BaseDirectory, "policies")
            : Path.GetFullPath(Directory, AppContext.BaseDirectory);
}
