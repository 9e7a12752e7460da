using Compliance.Data.Migrations;
using Compliance.Keys;
using Compliance.Policies;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary>Turns the known refusals into one line and an exit code; anything else is a bug and keeps its trace.</summary>
internal static class CliRun
{
    public static async Task<int> GuardAsync(TextWriter error, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (OptionsValidationException e)
        {
            await error.WriteLineAsync(string.Join(Environment.NewLine, e.Failures));
            return CliApp.ConfigurationError;
        }
        catch (Exception e) when (e is SchemaNotReadyException or StoreUnavailableException or ArgumentException or FileNotFoundException or PolicyValidationException)
        {
            await error.WriteLineAsync(e.Message);
            return e is SchemaNotReadyException or PolicyValidationException ? CliApp.NotInOrder : CliApp.ConfigurationError;
        }
        catch (KeyCustodyException e)
        {
            // Its message names keys by id and files by path, never key material.
            await error.WriteLineAsync(e.Message);
            return CliApp.NotInOrder;
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            await error.WriteLineAsync(e.Message);
            return CliApp.ConfigurationError;
        }
    }
}
