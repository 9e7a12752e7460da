using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data;
using Compliance.Data.Storage;
using Compliance.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary>
/// <c>compliance keys init</c>: creates the local key-encryption key on purpose, before the first production start.
/// Refuses when one exists, or when the store already holds keys wrapped by a key-encryption key.
/// </summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "Key custody.");
        var init = new Command("init", "Create the key-encryption key: the local key file (Keys:LocalKekPath, mode 0600; copy it to every node), or a non-extractable key on the PKCS#11 token (Keys:Kek=pkcs11). Run it once, after `migrate`, or as the first step of a KEK rotation.");
        init.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            _ = services.GetRequiredService<IOptions<KeysOptions>>().Value;
            await services.CreateMigrator(Store.Compliance).EnsureCurrentAsync(cancellationToken);
            var created = await services.GetRequiredService<IKekProvisioning>().CreateAsync(cancellationToken);
            await using (var scope = services.CreateAsyncScope())
            {
                var details = JsonSerializer.Serialize(new Dictionary<string, object> { ["kek_id"] = created.KeyId, ["custody"] = created.Custody });
                await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(
                    AuditEventTypes.KeyEncryptionKeyCreated, scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null, details, cancellationToken);
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(created.Custody == "local-file"
                ? $"Created the key-encryption key {created.KeyId} at {created.Path}. Back it up apart from the database (`compliance keys export-escrow`), and give every node sharing this database the same file."
                : $"Created the key-encryption key {created.KeyId} in {created.Path}. It never leaves the token: back the token up with the HSM's own procedure, and keep the escrow of its references (`compliance keys export-escrow`).");
            return CliApp.Ok;
        }));
        keys.Subcommands.Add(init);
        keys.Subcommands.Add(RotateKek());
        keys.Subcommands.Add(RevokeSigningKey());
        keys.Subcommands.Add(RotateAttestationKey());
        keys.Subcommands.Add(CompromiseAttestationKey());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(ExportEscrow());
        keys.Subcommands.Add(OpenEscrow());
        return keys;
    }

    /// <summary>Runs <paramref name="action"/> on the command's services, once the compliance store's schema is current.</summary>
    private static Func<ParseResult, CancellationToken, Task<int>> OnServices(Func<ParseResult, ServiceProvider, CancellationToken, Task<int>> action) =>
        (parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            _ = services.GetRequiredService<IOptions<KeysOptions>>().Value;
            await services.CreateMigrator(Store.Compliance).EnsureCurrentAsync(cancellationToken);
            return await action(parse, services, cancellationToken);
        });

    private static Command RotateKek()
    {
        var pace = new Option<double?>("--keys-per-second") { Description = "At most this many keys per second, to stay under an HSM's or a key vault's rate limit. Default: no limit." };
        var command = new Command(
            "rotate-kek",
            "Re-wrap every stored key (signing keys, keyed-hash secrets, Data Protection keys, the attestation key) under the current key-encryption key (Keys:Kek...), "
            + "unwrapping with the previous one (Keys:Previous...) or an earlier version of the current one. Data is not re-encrypted. "
            + "Safe to interrupt: run it again to finish.")
        {
            pace,
        };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var result = await services.GetRequiredService<IKekRotation>().RotateAsync(
                new KekRotationOptions { KeysPerSecond = parse.GetValue(pace), Progress = line => output.WriteLine(line) }, cancellationToken);
            await output.WriteLineAsync(result.FromKekIds.Count == 0
                ? $"Every stored key is already wrapped by {result.KekId}; nothing to do."
                : $"Re-wrapped {result.Rewrapped} key(s) under {result.KekId}, from {string.Join(", ", result.FromKekIds)}.");
            if (result.Remaining > 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"{result.Remaining} key(s) are still wrapped by another key-encryption key (created meanwhile by a node without the new one?): run the command again.");
                return CliApp.NotInOrder;
            }

            await output.WriteLineAsync("The previous key-encryption key is no longer needed: remove Keys:Previous from every node, then keep its escrow until your backups older than today have expired.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command RevokeSigningKey()
    {
        var kid = new Argument<string>("kid") { Description = "The kid of the compromised key, as the JWKS and `compliance keys list` show it." };
        var command = new Command(
            "revoke-signing-key",
            "Withdraw a compromised token signing key at once: it leaves the JWKS and validation on every node within 10 s, its private key is deleted, and a new key signs if it was signing.")
        {
            kid,
        };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var revocation = await services.GetRequiredService<ISigningKeys>().RevokeAsync(parse.GetRequiredValue(kid), cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"Revoked the {revocation.Algorithm} signing key {revocation.KeyId}; every node drops it within 10 seconds.");
            await output.WriteLineAsync(revocation.ReplacedBy is { } next
                ? $"It was signing: {next} signs from now on. Tokens it signed no longer pass introspection or userinfo; partners that validate tokens themselves must fetch the JWKS again."
                : "It was not signing; tokens it signed no longer validate.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command RotateAttestationKey()
    {
        var command = new Command(
            "rotate-attestation-key",
            "Retire the attestation key (it signs the consent ledger's checkpoints and receipts) and make a new one current. "
            + "The retired key's private key is destroyed; its public key stays published, so what it signed still verifies.");
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var key = await services.GetRequiredService<IAttestationKeys>().RotateAsync(cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"The attestation key {key.KeyId} signs from {Rfc3339(key.ValidFrom)}; every node uses it within 10 seconds.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command CompromiseAttestationKey()
    {
        var kid = new Argument<string>("kid") { Description = "The kid of the compromised attestation key, as `compliance keys list` shows it." };
        var from = new Option<string>("--from")
        {
            Description = "From when its signatures are void: an RFC 3339 UTC time such as 2026-12-01T10:00:00Z, not in the future, not before the key was valid. When unsure, the earlier.",
            Required = true,
        };
        var command = new Command(
            "compromise-attestation-key",
            "Mark an attestation key compromised from a time: what it signed from then on no longer verifies. If it is the current key, a new one replaces it first. "
            + "Running it again with the same time changes nothing; an earlier time replaces a later one.")
        {
            kid,
            from,
        };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var text = parse.GetRequiredValue(from);
            if (!DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("--from: expected an RFC 3339 UTC time such as 2026-12-01T10:00:00Z.");
                return CliApp.UsageError;
            }

            var key = await services.GetRequiredService<IAttestationKeys>().MarkCompromisedAsync(parse.GetRequiredValue(kid), time, cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"The attestation key {key.KeyId} is compromised from {Rfc3339(key.CompromisedFrom!.Value)}: what it signed from then on no longer verifies. The published key set says so.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Command ExportEscrow()
    {
        var recipient = new Option<FileInfo>("--recipient") { Description = "The operator's RSA public key (PEM, 3072 bits or more) that alone can open the escrow.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The escrow file to write (mode 0600; never over an existing file).", Required = true };
        var command = new Command(
            "export-escrow",
            "Write the key-encryption key (a local key file), or the references that name it (PKCS#11, Azure Key Vault), encrypted to an operator's public key. "
            + "Keep it offline, apart from the database backups.")
        {
            recipient, output,
        };
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var pem = await File.ReadAllTextAsync(parse.GetRequiredValue(recipient).FullName, cancellationToken);
            var written = await services.GetRequiredService<IKekEscrow>().ExportAsync(pem, parse.GetRequiredValue(output).FullName, cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Wrote the escrow of {string.Join(", ", written.KekIds)} to {written.Path}, for the holder of {written.Recipient}.");
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command OpenEscrow()
    {
        var privateKey = new Option<FileInfo>("--private-key") { Description = "The operator's RSA private key (PEM).", Required = true };
        var input = new Option<FileInfo>("--in") { Description = "The escrow file.", Required = true };
        var restore = new Option<bool>("--restore") { Description = "Write the escrowed local key at Keys:LocalKekPath (never over an existing file)." };
        var kekId = new Option<string?>("--kek-id") { Description = "With --restore: which local key, when the escrow holds two (written during a rotation)." };
        var command = new Command("open-escrow", "Open an escrow with the operator's private key: print what it names and, with --restore, put the local key back. Needs no database.")
        {
            privateKey, input, restore, kekId,
        };
        command.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<KeysOptions>>().Value;
            var pem = await File.ReadAllTextAsync(parse.GetRequiredValue(privateKey).FullName, cancellationToken);
            var escrow = await File.ReadAllTextAsync(parse.GetRequiredValue(input).FullName, cancellationToken);
            var opened = services.GetRequiredService<IKekEscrow>().Open(pem, escrow, parse.GetValue(restore), parse.GetValue(kekId));
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"Escrow written {opened.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}:");
            foreach (var kek in opened.Keks)
            {
                await output.WriteLineAsync("  " + string.Join(", ", kek.Select(p => $"{p.Key}={p.Value}")));
            }

            if (opened.RestoredTo is { } path)
            {
                await output.WriteLineAsync($"Restored the key-encryption key to {path}.");
            }

            return CliApp.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the token signing keys (kid, algorithm, generation, activation), the attestation keys (kid, valid from, retired, compromised) and the key-encryption keys that wrap the stored keys.");
        command.SetAction(OnServices(async (parse, services, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var census = await services.GetRequiredService<IKekRotation>().TakeCensusAsync(cancellationToken);
            await output.WriteLineAsync("kid\talgorithm\tgeneration\tactivates_at\tkek");
            foreach (var key in census.SigningKeys)
            {
                await output.WriteLineAsync($"{key.KeyId}\t{key.Algorithm}\t{key.Generation}\t{key.ActivatesAt:yyyy-MM-ddTHH:mm:ssZ}\t{key.KekId}");
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync("attestation kid\tvalid_from\tretired_at\tcompromised_from");
            foreach (var key in await services.GetRequiredService<IAttestationKeys>().AllAsync(cancellationToken))
            {
                await output.WriteLineAsync(
                    $"{key.KeyId}\t{Rfc3339(key.ValidFrom)}\t{(key.RetiredAt is { } retired ? Rfc3339(retired) : "-")}\t{(key.CompromisedFrom is { } compromised ? Rfc3339(compromised) : "-")}");
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync($"Key-encryption key in use: {census.KekId} ({census.Custody})");
            foreach (var (kekId, count) in census.WrappedByKek)
            {
                await output.WriteLineAsync($"{count} stored key(s) wrapped by {kekId}");
            }

            return CliApp.Ok;
        }));
        return command;
    }
}
