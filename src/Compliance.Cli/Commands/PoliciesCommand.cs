using System.CommandLine;
using System.Globalization;
using Compliance.Data;
using Compliance.Data.Migrations;
using Compliance.Data.Storage;
using Compliance.Policies;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Cli.Commands;

/// <summary><c>compliance policies validate [--directory DIR]</c>: loads the policy files as the server would at start-up.</summary>
internal static class PoliciesCommand
{
    public static Command Create()
    {
        var directory = new Option<DirectoryInfo?>("--directory", "-d")
        {
            Description = "The policies folder. Default: Policies:Directory, else ./policies if it exists (the repository root), else the policies folder next to this program.",
        };
        var validate = new Command("validate", "Check purposes.yaml, retention.yaml and processing-register.yaml; exit 1 if anything is wrong.") { directory };
        validate.SetAction((parse, cancellationToken) => ValidateAsync(parse, parse.GetValue(directory), cancellationToken));
        return new Command("policies", "The declarative compliance policies.") { validate };
    }

    private static Task<int> ValidateAsync(ParseResult parse, DirectoryInfo? directory, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        return CliRun.GuardAsync(error, async () =>
        {
            var options = new PolicyOptions();
            var configuration = CliSettings.Configuration(parse);
            configuration.GetSection(PolicyOptions.SectionName).Bind(options);
            var (path, why) = Resolve(directory, options);
            await output.WriteLineAsync($"Reading {path} ({why}).");
            try
            {
                var policies = PolicyLoader.Load(path);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: valid. {policies.Purposes.Count} purposes, {policies.RetentionRules.Count} retention rules, "
                    + $"{policies.Register.Count} register entries; fingerprint {policies.Fingerprint}"));
                return await CheckReferencesAsync(policies, configuration, output, error, cancellationToken);
            }
            catch (PolicyValidationException invalid)
            {
                foreach (var policyError in invalid.Errors)
                {
                    await error.WriteLineAsync(policyError.ToString());
                }

                return CliApp.NotInOrder;
            }
        });
    }

    // Events reference purposes and notice versions: the files may retire them, never delete them. The store that holds
    // the events is known only when a consent ledger registers an IPolicyReferences with the CLI's services.
    private static async Task<int> CheckReferencesAsync(PolicySet policies, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        await using var services = CliSettings.Services(configuration);
        await using var scope = services.CreateAsyncScope();
        // A check, not a set-up: it never creates a store nor migrates one. (Opening a SQLite store creates its file,
        // so its existence is checked before anything resolves a database context.)
        var store = services.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionFor(Store.Compliance);
        if (store.Provider == DatabaseProvider.Sqlite && new SqliteConnectionStringBuilder(store.ConnectionString).DataSource is { } file && !File.Exists(file))
        {
            await output.WriteLineAsync("References: not checked against a store (there is no compliance database yet).");
            return CliApp.Ok;
        }

        var references = scope.ServiceProvider.GetService<IPolicyReferences>();
        if (references is null)
        {
            await output.WriteLineAsync("References: not checked against a store (no consent ledger is registered).");
            return CliApp.Ok;
        }

        SchemaStatus status;
        try
        {
            status = await services.CreateMigrator(Store.Compliance).GetStatusAsync(cancellationToken);
        }
        catch (StoreUnavailableException e)
        {
            await output.WriteLineAsync("References: not checked against a store (" + e.Message + ").");
            return CliApp.Ok;
        }

        if (!status.IsCurrent)
        {
            await output.WriteLineAsync("References: not checked against a store (its schema is not current: run compliance migrate).");
            return CliApp.Ok;
        }

        var referenced = await references.ReferencedAsync(cancellationToken);
        var errors = PolicyReferences.Check(policies, referenced);
        foreach (var referenceError in errors)
        {
            await error.WriteLineAsync(referenceError.ToString());
        }

        if (errors.Count > 0)
        {
            return CliApp.NotInOrder;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"References: {referenced.Count} referenced purposes and notice versions, all declared."));
        return CliApp.Ok;
    }

    /// <summary>
    /// The folder to read and why. Run from the repository root, the policies being edited are <c>./policies</c>, not the
    /// copy next to the binary that the last build made; so a <c>policies</c> folder in the current directory comes first.
    /// </summary>
    internal static (string Path, string Why) Resolve(DirectoryInfo? directory, PolicyOptions options)
    {
        if (directory is not null)
        {
            return (directory.FullName, "--directory");
        }

        if (!string.IsNullOrWhiteSpace(options.Directory))
        {
            return (options.ResolveDirectory(), "Policies:Directory");
        }

        var current = Path.Combine(Directory.GetCurrentDirectory(), "policies");
        return Directory.Exists(current)
            ? (current, "the policies folder in the current directory")
            : (options.ResolveDirectory(), "the policies folder next to this program");
    }
}
