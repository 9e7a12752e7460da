namespace Compliance.Policies;

/// <summary>
/// Thrown by <see cref="PolicyLoader.Load"/> when the policy files are missing or invalid.
/// It carries every problem found across the three files, not only the first.
/// </summary>
public sealed class PolicyValidationException : Exception
{
    public PolicyValidationException(IReadOnlyList<PolicyError> errors)
        : base(FormatMessage(errors))
    {
        Errors = errors;
    }

    public PolicyValidationException()
        : this([])
    {
    }

    public PolicyValidationException(string message)
        : base(message)
    {
        Errors = [];
    }

    public PolicyValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public IReadOnlyList<PolicyError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<PolicyError> errors) =>
        "Policy files are invalid:" + string.Concat(errors.Select(error => "\n" + error));
}
