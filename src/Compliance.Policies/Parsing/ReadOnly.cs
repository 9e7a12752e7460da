using System.Collections.ObjectModel;

namespace Compliance.Policies.Parsing;

internal static class ReadOnly
{
    /// <summary>A copy that callers cannot cast back to a mutable list: a loaded PolicySet never changes.</summary>
    public static ReadOnlyCollection<T> Copy<T>(IEnumerable<T> items) => new([.. items]);
}
