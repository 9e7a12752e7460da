using System.Globalization;

namespace Compliance.Policies;

/// <summary>
/// One problem found in the policy files. <see cref="Line"/> and <see cref="Column"/> are 1-based;
/// 0 means the problem concerns the whole file (for example, a missing file).
/// </summary>
public sealed record PolicyError(string File, int Line, int Column, string Message)
{
    /// <summary>Compiler-style location and reason, e.g. <c>purposes.yaml:12:5: unknown key 'nmae'</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");
}
