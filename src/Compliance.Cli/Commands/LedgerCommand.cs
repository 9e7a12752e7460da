using System.CommandLine;
using Compliance.Consent.Checkpoints;
using Compliance.Consent.Integrity;
using Compliance.Consent.Ledger;
using Compliance.Consent.Receipts;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys;
using Compliance.Keys.Attestation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance ledger</c>: verify the consent ledger from its tables, sign a checkpoint, print the attestation keys,
/// and check a patient's receipt offline.
/// </summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var ledger = new Command("ledger", "The consent ledger: verification, checkpoints, receipts.");
        ledger.Subcommands.Add(Verify());
        ledger.Subcommands.Add(Checkpoint());
        ledger.Subcommands.Add(Keys());
        ledger.Subcommands.Add(VerifyReceipt());
        ledger.Subcommands.Add(Reconcile());
        return ledger;
    }

    private static Func<ParseResult, CancellationToken, Task<int>> OnServices(Func<ParseResult, IServiceProvider, CancellationToken, Task<int>> action) =>
        (parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            await services.CreateMigrator(Store.Compliance).EnsureCurrentAsync(cancellationToken);
            await using var scope = services.CreateAsyncScope();
            try
            {
                return await action(parse, scope.ServiceProvider, cancellationToken);
            }
            catch (ConsentLedgerException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(e.Message);
                return CliApp.NotInOrder;
            }
        });

    private static Command Verify()
    {
        var command = new Command(
            "verify",
            "Recompute the whole ledger from its tables: every record's commitment, every leaf hash and seal, the order, and the root at every signed "
            + "checkpoint, whose signatures are checked. Names the event of each change, deletion, reordering or insertion. Exit 1 when anything is found.");
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var result = await services.GetRequiredService<ILedgerIntegrity>().VerifyAsync(cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync(
                $"{result.Leaves} event(s), {result.Redacted} redacted, {result.CheckpointsChecked} checkpoint(s) checked, root {Base64UrlEncoder.Encode(result.Root)}, in {result.Elapsed.TotalSeconds:0.00} s.");
            foreach (var finding in result.Findings)
            {
                await output.WriteLineAsync($"{finding.Kind}: leaf {finding.Index?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, event {finding.EventId?.ToString() ?? "-"}: {finding.Detail}");
            }

            await output.WriteLineAsync(result.Intact ? "The ledger is intact." : $"The ledger was tampered with: {result.Findings.Count} finding(s).");
            return result.Intact ? CliApp.Ok : CliApp.NotInOrder;
        }));
        return command;
    }

    private static Command Checkpoint()
    {
        var command = new Command("checkpoint", "Sign a checkpoint of the whole ledger now (the recurring job does it every minute when the ledger grew).");
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var signed = await services.GetRequiredService<ILedgerCheckpoints>().SignAsync(cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(signed is null
                ? "The ledger is empty: no checkpoint."
                : $"Checkpoint of {signed.TreeSize} event(s), root {Base64UrlEncoder.Encode(signed.RootHash)}, signed by {signed.KeyId} at {signed.SignedAt:O}.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command Keys()
    {
        var command = new Command("keys", "Print every attestation public key ever used, with its validity (the document /ledger/keys serves), for offline checks.");
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var keys = await services.GetRequiredService<IAttestationKeys>().AllAsync(cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(AttestationVerifier.KeySetJson(keys));
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command Reconcile()
    {
        var accept = new Option<bool>("--accept-store") { Description = "Required: accept the ledger as the store now holds it (after a restore). Audited.", Required = true };
        var command = new Command(
            "reconcile",
            "After a database restore, the ledger holds fewer events than a checkpoint this node recorded, and appends are refused. Run `compliance ledger verify` "
            + "first, tell the partners and auditors who keep checkpoints, then accept the store: appends resume from what it holds.")
        {
            accept,
        };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var (store, recorded) = await services.GetRequiredService<ILedgerCheckpoints>().AcceptStoreAsync(cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Accepted the ledger as the store holds it (checkpointed size {store}; this node had recorded {recorded?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}). Appends resume.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command VerifyReceipt()
    {
        var file = new Argument<FileInfo>("receipt") { Description = "The receipt (JSON) downloaded from the account page." };
        var keys = new Option<FileInfo>("--keys") { Description = "The attestation keys, as /ledger/keys or `compliance ledger keys` gives them.", Required = true };
        var command = new Command(
            "verify-receipt",
            "Check a consent receipt offline, with only the receipt and the published attestation keys: no database, no server.")
        {
            file, keys,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var receiptFile = parse.GetRequiredValue(file);
            if (receiptFile.Exists && receiptFile.Length > ReceiptVerifier.MaxReceiptBytes)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("The receipt is not valid: it is larger than 1 MiB.");
                return CliApp.NotInOrder;
            }

            var check = ReceiptVerifier.Verify(
                await File.ReadAllBytesAsync(receiptFile.FullName, cancellationToken),
                await File.ReadAllTextAsync(parse.GetRequiredValue(keys).FullName, cancellationToken));
            if (!check.Valid)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("The receipt is not valid: " + check.Refusal + ".");
                return CliApp.NotInOrder;
            }

            var record = check.Record!;
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"The receipt is valid: record {record.RecordId} ({record.StateName}, purpose {record.Purpose.Id}, controller {record.Controller.Name}, {record.OccurredAt:O}) "
                + $"is in the ledger's checkpoint of {check.TreeSize} event(s) signed by {check.KeyId} at {check.CheckpointSignedAt:O}.");
            return CliApp.Ok;
        }));
        return command;
    }
}
