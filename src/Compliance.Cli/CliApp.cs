using System.CommandLine;
using Compliance.Cli.Commands;

namespace Compliance.Cli;

/// <summary>
/// The <c>compliance</c> admin command. Settings come, in increasing precedence, from <c>appsettings.json</c> in the
/// current folder, <c>--config FILE</c>, environment variables (<c>Storage__Provider</c>) and <c>--set Key=Value</c>:
/// the same keys as the server's.
/// </summary>
public static class CliApp
{
    /// <summary>Exit codes: 0 done, 1 the checked thing is not in order, 2 usage error, 78 configuration refused.</summary>
    public const int Ok = 0;
    public const int NotInOrder = 1;
    public const int UsageError = 2;
    public const int ConfigurationError = 78;

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) => RunAsync(args, TextReader.Null, output, error);

    /// <summary>Runs the command; <paramref name="input"/> is standard input, read only by options that say so (<c>--password-stdin</c>).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Compliance service administration: schema migrations, key custody, policies, OpenID clients, staff accounts, the consent ledger.");
        root.Options.Add(CliSettings.ConfigOption);
        root.Options.Add(CliSettings.SetOption);
        root.Options.Add(CliSettings.OperatorOption);
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(PoliciesCommand.Create());
        root.Subcommands.Add(ClientsCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(LedgerCommand.Create());
        root.Subcommands.Add(OutboxCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(StaffCommand.Create(input));

        var parsed = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync(parseError.Message);
            }

            return UsageError;
        }

        return await parsed.InvokeAsync(invocation);
    }
}
