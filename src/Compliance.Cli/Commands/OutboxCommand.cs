using System.CommandLine;
using System.Globalization;
using Compliance.Consent.Outbox;
using Compliance.Data;
using Compliance.Data.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance outbox failed|retry</c>: the partners' webhook deliveries given up after their deadline (72 hours of
/// failures), and sending one again (audited). No personal data is printed: client, event id, type, times, attempts
/// and the last error's code.
/// </summary>
internal static class OutboxCommand
{
    public static Command Create()
    {
        var outbox = new Command("outbox", "Consent events pushed to partners' webhooks: list the failed deliveries, send one again.");
        outbox.Subcommands.Add(Failed());
        outbox.Subcommands.Add(Retry());
        return outbox;
    }

    private static Func<ParseResult, CancellationToken, Task<int>> OnServices(Func<ParseResult, IServiceProvider, CancellationToken, Task<int>> action) =>
        (parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            await services.CreateMigrator(Store.Compliance).EnsureCurrentAsync(cancellationToken);
            await using var scope = services.CreateAsyncScope();
            return await action(parse, scope.ServiceProvider, cancellationToken);
        });

    private static Command Failed()
    {
        var limit = new Option<int>("--limit") { Description = "At most this many (1 to 10000).", DefaultValueFactory = _ => 1000 };
        var command = new Command("failed", "List the deliveries given up: client, event id, type, created, attempts, last error. Exit 1 when there is any.") { limit };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var max = parse.GetValue(limit);
            if (max is < 1 or > 10_000)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("--limit: 1 to 10000.");
                return CliApp.UsageError;
            }

            var failed = await services.GetRequiredService<IConsentOutbox>().FailedAsync(max, cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            if (failed.Count == 0)
            {
                await output.WriteLineAsync("No failed delivery.");
                return CliApp.Ok;
            }

            await output.WriteLineAsync("client\tevent_id\ttype\tcreated\tattempts\tlast_error\tfailed");
            foreach (var f in failed)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{f.ClientId}\t{f.EventId:D}\t{f.Type}\t{f.CreatedAt.ToUniversalTime():O}\t{f.Attempts}\t{f.LastError ?? "-"}\t{f.FailedAt.ToUniversalTime():O}"));
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{failed.Count} failed delivery(ies). The partners can still pull them (GET /partner/v1/events); `compliance outbox retry EVENT_ID` sends one again."));
            return CliApp.NotInOrder;
        }));
        return command;
    }

    private static Command Retry()
    {
        var id = new Argument<string>("event-id") { Description = "The event id, as `compliance outbox failed` lists it." };
        var command = new Command("retry", "Send a failed delivery again now, with a new 72-hour deadline. Audited.") { id };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            if (!Guid.TryParse(parse.GetValue(id), out var eventId))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("event-id: not an event id (a UUID).");
                return CliApp.UsageError;
            }

            var retried = await services.GetRequiredService<IConsentOutbox>().RetryAsync(eventId, cancellationToken);
            await (retried ? parse.InvocationConfiguration.Output : parse.InvocationConfiguration.Error).WriteLineAsync(retried
                ? $"Delivery of {eventId:D} will be tried again now (by a running server's job)."
                : $"No failed delivery of event {eventId:D}.");
            return retried ? CliApp.Ok : CliApp.NotInOrder;
        }));
        return command;
    }
}
