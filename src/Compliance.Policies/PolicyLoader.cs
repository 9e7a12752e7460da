using System.Security.Cryptography;
using Compliance.Policies.Parsing;

namespace Compliance.Policies;

/// <summary>
/// Loads and validates the policy directory: <c>purposes.yaml</c>, <c>retention.yaml</c>,
/// <c>processing-register.yaml</c> and the notice texts they point to.
/// </summary>
public static class PolicyLoader
{
    /// <summary>The policy files, in the order their bytes enter <see cref="PolicySet.Fingerprint"/>.</summary>
    public static IReadOnlyList<string> FileNames { get; } = [PurposesFile.FileName, RetentionFile.FileName, RegisterFile.FileName];

    /// <summary>
    /// Reads and validates every file of <paramref name="directory"/>.
    /// </summary>
    /// <exception cref="PolicyValidationException">
    /// Anything is wrong: a missing directory or file, a YAML syntax error, an unknown key, a bad
    /// value, a duplicate id, a dangling reference, a notice whose hash does not match its text.
    /// Every problem found is reported, each with its file, line and column.
    /// </exception>
    public static PolicySet Load(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var fullDirectory = Path.GetFullPath(directory);
        var errors = new List<PolicyError>();
        if (!Directory.Exists(fullDirectory))
        {
            errors.Add(new PolicyError(fullDirectory, 0, 0, "policy directory not found (set Policies:Directory)"));
            throw new PolicyValidationException(errors);
        }

        var purposesDocument = PolicyDocument.Read(fullDirectory, PurposesFile.FileName, errors);
        var retentionDocument = PolicyDocument.Read(fullDirectory, RetentionFile.FileName, errors);
        var registerDocument = PolicyDocument.Read(fullDirectory, RegisterFile.FileName, errors);

        var purposes = PurposesParser.Parse(purposesDocument, fullDirectory);
        var retention = RetentionParser.Parse(retentionDocument, purposes);
        CheckRetentionCoverage(purposesDocument, purposes, retention);
        var register = RegisterParser.Parse(registerDocument, purposes, retention);

        if (errors.Count > 0 || register.Controller is null)
        {
            // Stable order: by file, then by position, so that the first line points at the first problem.
            var ordered = errors
                .OrderBy(error => FileOrder(error.File))
                .ThenBy(error => error.Line)
                .ThenBy(error => error.Column)
                .ToList();
            throw new PolicyValidationException(ordered);
        }

        var fingerprint = Fingerprint(purposesDocument.Bytes!, retentionDocument.Bytes!, registerDocument.Bytes!);
        return new PolicySet(
            fullDirectory,
            fingerprint,
            ReadOnly.Copy(purposes.Categories.Items),
            ReadOnly.Copy(purposes.Purposes.Items),
            ReadOnly.Copy(retention.Rules.Items),
            register.Controller,
            ReadOnly.Copy(register.Entries.Items));
    }

    // Every data category is covered by exactly one rule, or says why none applies.
    private static void CheckRetentionCoverage(PolicyDocument purposesDocument, PurposesFile purposes, RetentionFile retention)
    {
        if (!purposes.Readable || !retention.Readable)
        {
            return;
        }

        foreach (var (category, node) in purposes.Categories.WithNodes)
        {
            if (category.RetentionNotApplicable is null && !retention.CoveredCategories.ContainsKey(category.Id))
            {
                purposesDocument.Error(node, $"data category '{category.Id}' has no retention rule in {RetentionFile.FileName}; add one, or state why none applies with 'retentionNotApplicable'");
            }
        }
    }

    private static string Fingerprint(params byte[][] files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var bytes in files)
        {
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static int FileOrder(string file)
    {
        var index = FileNames.ToList().IndexOf(file);
        return index < 0 ? -1 : index;
    }
}
