using System.CommandLine;
using Compliance.Oidc.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance demo remove</c>: removes the demo client and demo account that Development seeds, whose secrets are
/// public. A production start refuses while they exist.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var demo = new Command("demo", "The demo client and account seeded in Development.");
        var remove = new Command("remove", $"Remove the demo client '{DemoSeed.ClientId}' and the demo account '{DemoSeed.Pseudonym}', revoking what it was issued.");
        remove.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            var (client, account) = await DemoSeed.RemoveAsync(scope.ServiceProvider, cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync(client ? $"Removed the demo client '{DemoSeed.ClientId}'." : $"No demo client '{DemoSeed.ClientId}'.");
            await output.WriteLineAsync(account ? $"Removed the demo account '{DemoSeed.Pseudonym}'." : $"No demo account '{DemoSeed.Pseudonym}'.");
            return CliApp.Ok;
        }));
        demo.Subcommands.Add(remove);
        return demo;
    }
}
