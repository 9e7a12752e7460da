namespace Compliance.Policies;

/// <summary>A text in French and English, the two languages of every patient- and partner-facing page.</summary>
public sealed record LocalizedText(string Fr, string En)
{
    /// <summary>The text in <paramref name="language"/> ("fr" or "en"); French for any other language.</summary>
    public string In(string language) =>
        string.Equals(language, "en", StringComparison.OrdinalIgnoreCase) ? En : Fr;
}
