using System.CommandLine;
using System.Globalization;
using Compliance.Oidc.Staff;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance staff add|list|remove</c>: the accounts of the people who run the service (administrators) and of
/// partners' data protection officers. Staff sign in at <c>/staff/login</c>, never as patients, and cannot sign in
/// at all until they have set up an authenticator app. Each change is an audit row naming the operator.
/// </summary>
internal static class StaffCommand
{
    public static Command Create(TextReader input)
    {
        var staff = new Command("staff", "Add, list and remove staff accounts (administrators and DPOs), who sign in at /staff/login with a password and an authenticator app.");
        staff.Subcommands.Add(Add(input));
        staff.Subcommands.Add(List());
        staff.Subcommands.Add(Remove());
        return staff;
    }

    private static Command Add(TextReader input)
    {
        var name = new Argument<string>("name") { Description = "The sign-in name: 3 to 64 letters, digits, '.', '_', '-' or '@'." };
        var role = new Option<string>("--role") { Description = "dpo or admin.", Required = true };
        var partner = new Option<string?>("--partner") { Description = "The client_id of the partner a DPO answers for (a registered client)." };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the initial password from the first line of standard input instead of generating one.",
        };
        var command = new Command(
            "add",
            "Add a staff account. Its initial password (generated, and printed once, unless --password-stdin) works for the first sign-in only, "
            + "which replaces it and sets up an authenticator app.")
        {
            name, role, partner, passwordStdin,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var error = parse.InvocationConfiguration.Error;
            var roleValue = parse.GetValue(role)!;
            if (!StaffRoles.IsKnown(roleValue))
            {
                await error.WriteLineAsync($"--role: '{roleValue}' is not a staff role; expected {string.Join(" or ", StaffRoles.All)}.");
                return CliApp.UsageError;
            }

            string? password = null;
            if (parse.GetValue(passwordStdin))
            {
                password = await input.ReadLineAsync(cancellationToken);
                if (string.IsNullOrEmpty(password))
                {
                    await error.WriteLineAsync("--password-stdin: standard input holds no password.");
                    return CliApp.UsageError;
                }
            }

            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            try
            {
                var added = await scope.ServiceProvider.GetRequiredService<StaffAdministration>()
                    .AddAsync(parse.GetValue(name)!, roleValue, parse.GetValue(partner), password, cancellationToken);
                var output = parse.InvocationConfiguration.Output;
                var account = added.Account;
                await output.WriteLineAsync(account.PartnerClientId is null
                    ? $"Added staff account {account.Name} ({account.Role})."
                    : $"Added staff account {account.Name} ({account.Role}, partner {account.PartnerClientId}).");
                if (password is null)
                {
                    await output.WriteLineAsync($"initial password: {added.InitialPassword}");
                    await output.WriteLineAsync("It is shown this once. Hand it over apart from the name (another channel).");
                }

                await output.WriteLineAsync("It works for the first sign-in only, at /staff/login: that sign-in replaces it and sets up an authenticator app.");
                return CliApp.Ok;
            }
            catch (StaffAdministrationException refused)
            {
                await error.WriteLineAsync(refused.Message);
                return CliApp.NotInOrder;
            }
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the staff accounts: name, role, partner, second factor set up, created, last sign-in (UTC). Never a password or a key.");
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync("name\trole\tpartner\tsecond_factor\tcreated\tlast_sign_in");
            foreach (var staff in await scope.ServiceProvider.GetRequiredService<StaffAdministration>().ListAsync(cancellationToken))
            {
                await output.WriteLineAsync(string.Join('\t',
                    staff.Name,
                    staff.Role,
                    staff.PartnerClientId ?? "-",
                    staff.SecondFactorEnrolled ? "yes" : "no",
                    staff.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
                    staff.LastSignInAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never"));
            }

            return CliApp.Ok;
        }));
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name");
        var command = new Command("remove", "Remove a staff account with its authenticator key and recovery codes; its sessions end on every node at their next request.")
        {
            name,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            await using var scope = services.CreateAsyncScope();
            var staffName = parse.GetValue(name)!;
            var ended = await scope.ServiceProvider.GetRequiredService<StaffAdministration>().RemoveAsync(staffName, cancellationToken);
            if (ended is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"No staff account '{staffName}'.");
                return CliApp.NotInOrder;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(
                string.Create(CultureInfo.InvariantCulture, $"Removed staff account {staffName}; {ended} open session(s) ended."));
            return CliApp.Ok;
        }));
        return command;
    }
}
