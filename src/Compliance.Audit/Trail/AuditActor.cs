namespace Compliance.Audit.Trail;

/// <summary>
/// Who the audit rows written by this process name as their actor. A server node names itself
/// (<c>server:MACHINE</c>); the CLI names the operator who ran it (<c>operator:NAME</c>, the OS user or
/// <c>--operator</c>). Never a civil identity: an operator account name, at most 64 characters of a closed alphabet.
/// </summary>
public interface IAuditActor
{
    string Name { get; }
}

/// <summary>Builds and checks actor names.</summary>
public static class AuditActor
{
    public const string ServerPrefix = "server:";
    public const string OperatorPrefix = "operator:";
    public const string StaffPrefix = "staff:";

    /// <summary>An unauthenticated browser, for refusals that must not tell whether an account exists.</summary>
    public const string Anonymous = "anonymous";
    public const int MaxNameLength = 64;

    /// <summary>An operator name as <c>--operator</c> accepts it: 1 to 64 letters, digits, '.', '_', '-' or '@'.</summary>
    public static bool IsValidOperatorName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(IsAllowed);

    /// <summary><c>operator:NAME</c> for a name that <see cref="IsValidOperatorName"/> accepts.</summary>
    public static IAuditActor Operator(string name) => IsValidOperatorName(name)
        ? new Fixed(OperatorPrefix + name)
        : throw new ArgumentException("--operator: 1 to 64 characters among letters, digits, '.', '_', '-' and '@'.", nameof(name));

    /// <summary>The OS user running this process, its other characters replaced by '_' (a domain user <c>CORP\jo</c> gives <c>CORP_jo</c>).</summary>
    public static IAuditActor OsUser() => new Fixed(OperatorPrefix + Sanitize(Environment.UserName, "unknown-user"));

    /// <summary><c>staff:</c> and a staff account's id: its name stays in the staff table, never in sign-in rows.</summary>
    public static string Staff(Guid staffId) => StaffPrefix + staffId.ToString("D");

    /// <summary><c>server:</c> and this machine's name.</summary>
    public static IAuditActor Server() => new Fixed(ServerPrefix + Sanitize(Environment.MachineName, "unknown-host"));

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@';

    private static string Sanitize(string? value, string fallback)
    {
        var cleaned = new string([.. (value ?? "").Take(MaxNameLength).Select(c => IsAllowed(c) ? c : '_')]);
        return cleaned.Length == 0 ? fallback : cleaned;
    }

    private sealed record Fixed(string Name) : IAuditActor;
}
