using Compliance.Data.Migrations;
using Compliance.Keys;
using Compliance.Policies;
using Microsoft.Extensions.Options;

namespace Compliance.Server.Hosting;

/// <summary>Turns the known reasons for refusing to start into one line an operator can act on.</summary>
internal static class StartupFailure
{
    /// <summary>EX_CONFIG from sysexits.h: the configuration is wrong.</summary>
    public const int ExitCode = 78;

    public static string? Explain(Exception exception) => exception switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.Select(Explain).FirstOrDefault(reason => reason is not null),
        OptionsValidationException options => string.Join(" ", options.Failures),
        PolicyValidationException policies => policies.Message.ReplaceLineEndings(" "),
        SchemaNotReadyException schema => schema.Message,
        StoreUnavailableException store => store.Message,
        KeyCustodyException keys => keys.Message,
        // The configuration binder names the key it could not convert, e.g. "Hosting:ShutdownTimeoutSeconds".
        InvalidOperationException binder when binder.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => binder.Message,
        IOException io when io.Message.Contains("Failed to bind", StringComparison.Ordinal) => $"Urls: {io.Message}",
        _ => null,
    };
}
