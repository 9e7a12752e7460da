using System.CommandLine;
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
        var init = new Command("init", "Create the local key-encryption key (Keys:LocalKekPath, mode 0600). Run it once, after `migrate`, then copy the file to every node.");
        init.SetAction((parse, cancellationToken) => CliRun.GuardAsync(parse.InvocationConfiguration.Error, async () =>
        {
            await using var services = CliSettings.Services(CliSettings.Configuration(parse));
            _ = services.GetRequiredService<IOptions<StorageOptions>>().Value; // validates the settings first
            _ = services.GetRequiredService<IOptions<KeysOptions>>().Value;
            await services.CreateMigrator(Store.Compliance).EnsureCurrentAsync(cancellationToken);
            var created = await services.GetRequiredService<IKekProvisioning>().CreateAsync(cancellationToken);
            await using (var scope = services.CreateAsyncScope())
            {
                var details = JsonSerializer.Serialize(new Dictionary<string, object> { ["kek_id"] = created.KeyId, ["custody"] = "local-file" });
                await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(
                    AuditEventTypes.KeyEncryptionKeyCreated, scope.ServiceProvider.GetRequiredService<IAuditActor>().Name, null, details, cancellationToken);
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Created the key-encryption key {created.KeyId} at {created.Path}. "
                + "Back it up apart from the database, and give every node sharing this database the same file.");
            return CliApp.Ok;
        }));
        keys.Subcommands.Add(init);
        return keys;
    }
}
