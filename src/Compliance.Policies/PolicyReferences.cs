namespace Compliance.Policies;

/// <summary>A purpose, and optionally one of its notice versions, that recorded events reference.</summary>
/// <param name="PurposeId">The purpose id as recorded.</param>
/// <param name="NoticeVersion">The notice version as recorded, or null when the reference is to the purpose only.</param>
public sealed record PolicyReference(string PurposeId, string? NoticeVersion);

/// <summary>
/// The purposes and notice versions that stored events reference (implemented by the consent ledger). When one is
/// registered, <c>compliance policies validate</c> and the server's start-up check refuse policy files that no longer
/// declare them.
/// </summary>
public interface IPolicyReferences
{
    /// <summary>Every distinct (purpose, notice version) pair that recorded events name.</summary>
    Task<IReadOnlyList<PolicyReference>> ReferencedAsync(CancellationToken ct);
}

/// <summary>
/// Checks that policy files still declare everything events reference: proof of consent (GDPR Art. 7(1)) needs the
/// purpose and the exact notice version, so they can be retired but never deleted.
/// </summary>
public static class PolicyReferences
{
    /// <summary>
    /// One error per referenced purpose, or notice version of a declared purpose, that <paramref name="policies"/> no
    /// longer declares; empty when every reference resolves. Retired purposes and versions resolve. Pure: reads nothing.
    /// </summary>
    public static IReadOnlyList<PolicyError> Check(PolicySet policies, IEnumerable<PolicyReference> referenced)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(referenced);
        var errors = new List<PolicyError>();
        var missingPurposes = new SortedSet<string>(StringComparer.Ordinal);
        var missingNotices = new SortedSet<(string PurposeId, string Version)>();
        foreach (var reference in referenced)
        {
            ArgumentNullException.ThrowIfNull(reference);
            var purpose = policies.FindPurpose(reference.PurposeId);
            if (purpose is null)
            {
                missingPurposes.Add(reference.PurposeId);
            }
            else if (reference.NoticeVersion is not null && purpose.FindNotice(reference.NoticeVersion) is null)
            {
                missingNotices.Add((reference.PurposeId, reference.NoticeVersion));
            }
        }

        // The ids come from our own ledger, but are shown escaped of control characters all the same: this is one line per error.
        foreach (var purposeId in missingPurposes)
        {
            errors.Add(new PolicyError(Parsing.PurposesFile.FileName, 0, 0,
                $"purpose '{Printable(purposeId)}' is referenced by consent events: retire it (retired: true) instead of deleting it"));
        }

        foreach (var (purposeId, version) in missingNotices)
        {
            errors.Add(new PolicyError(Parsing.PurposesFile.FileName, 0, 0,
                $"notice version '{Printable(version)}' of purpose '{Printable(purposeId)}' is referenced by consent events: retire it (retired: true) instead of deleting it"));
        }

        return errors;
    }

    private static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) ? '?' : c));
}
