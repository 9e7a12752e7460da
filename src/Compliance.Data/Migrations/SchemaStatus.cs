namespace Compliance.Data.Migrations;

/// <summary>How a store's schema compares with the migrations of this build.</summary>
/// <param name="Applied">Versions recorded in the store's <c>schema_history</c>.</param>
/// <param name="Pending">Migrations of this build that the store has not run yet.</param>
/// <param name="Unknown">Versions the store has run that this build does not know: the schema is newer than the code.</param>
/// <param name="Altered">Versions whose recorded checksum differs from this build's script: someone edited a shipped migration.</param>
public sealed record SchemaStatus(
    IReadOnlyList<int> Applied,
    IReadOnlyList<int> Pending,
    IReadOnlyList<int> Unknown,
    IReadOnlyList<int> Altered)
{
    /// <summary>The highest applied version, or 0 on an empty store.</summary>
    public int CurrentVersion => Applied.Count == 0 ? 0 : Applied.Max();

    /// <summary>The schema is exactly what this build expects.</summary>
    public bool IsCurrent => Pending.Count == 0 && Unknown.Count == 0 && Altered.Count == 0;
}
