using System.CommandLine;
using Compliance.Audit;
using Compliance.Audit.Trail;
using Compliance.Consent;
using Compliance.Data;
using Compliance.Jobs;
using Compliance.Keys;
using Compliance.Oidc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Cli;

/// <summary>Builds the command's configuration and services from the same keys as the server's.</summary>
internal static class CliSettings
{
    public static readonly Option<FileInfo?> ConfigOption = new("--config")
    {
        Description = "A JSON settings file, as the server's appsettings.json.",
        Recursive = true,
    };

    public static readonly Option<string[]> SetOption = new("--set", "-s")
    {
        Description = "A setting as Key=Value, e.g. Storage:Provider=PostgreSQL. Repeatable.",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The configuration key that carries <c>--operator</c> to <see cref="Services"/>.</summary>
    public const string OperatorKey = "Cli:Operator";

    public static readonly Option<string?> OperatorOption = CreateOperatorOption();

    public static IConfiguration Configuration(ParseResult parse)
    {
        var builder = new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true);
        if (parse.GetValue(ConfigOption) is { } file)
        {
            builder.AddJsonFile(file.FullName, optional: false);
        }

        builder.AddEnvironmentVariables();
        var overrides = new Dictionary<string, string?>();
        foreach (var pair in parse.GetValue(SetOption) ?? [])
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new ArgumentException($"--set expects Key=Value, got '{pair}'.");
            }

            overrides[pair[..separator].Trim()] = pair[(separator + 1)..];
        }

        if (parse.GetValue(OperatorOption) is { } name)
        {
            overrides[OperatorKey] = name;
        }

        return builder.AddInMemoryCollection(overrides).Build();
    }

    /// <summary>
    /// The services of a command. Audit rows name <c>operator:</c> and <c>--operator</c>, or the OS user running the
    /// command: never a bare "cli".
    /// </summary>
    public static ServiceProvider Services(IConfiguration configuration) =>
        new ServiceCollection()
            .AddSingleton(configuration[OperatorKey] is { } name ? AuditActor.Operator(name) : AuditActor.OsUser())
            .AddLogging(logging => logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning))
            .AddComplianceData(configuration, gateStartup: false)
            .AddComplianceJobs(configuration)
            .AddComplianceAudit()
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .AddComplianceConsent(configuration)
            .BuildServiceProvider();

    private static Option<string?> CreateOperatorOption()
    {
        var option = new Option<string?>("--operator")
        {
            Description = "Who runs this command, as the audit trail records it (default: the OS user). 1 to 64 letters, digits, '.', '_', '-' or '@'; "
                + "an account name, not a civil name.",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (!AuditActor.IsValidOperatorName(result.GetValueOrDefault<string?>()))
            {
                result.AddError("--operator: 1 to 64 characters among letters, digits, '.', '_', '-' and '@'.");
            }
        });
        return option;
    }
}
