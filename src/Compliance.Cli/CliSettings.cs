using System.CommandLine;
using Compliance.Audit;
using Compliance.Data;
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

        return builder.AddInMemoryCollection(overrides).Build();
    }

    public static ServiceProvider Services(IConfiguration configuration) =>
        new ServiceCollection()
            .AddLogging(logging => logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning))
            .AddComplianceData(configuration, gateStartup: false)
            .AddComplianceAudit()
            .AddComplianceKeys(configuration)
            .AddComplianceOidc(configuration)
            .BuildServiceProvider();
}
