using Compliance.Testing;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>compliance policies validate</c> against a store whose consent ledger references purposes and notice versions:
/// deleting a referenced one from the files is refused (it can only be retired); retiring it passes.
/// </summary>
public abstract class PolicyReferencesCommandTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly string _policies = Directory.CreateTempSubdirectory("compliance-policies-").FullName;

    public void Dispose()
    {
        Directory.Delete(_policies, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Validate_ANoticeVersionTheLedgerReferences_CannotBeDeletedOnlyRetired()
    {
        await ReferenceAsync("research", "2025-09");
        Copy();
        var purposes = Path.Combine(_policies, "purposes.yaml");
        var original = await File.ReadAllTextAsync(purposes);

        // Deleted: the research purpose's only version is replaced by a new one.
        await File.WriteAllTextAsync(purposes, original.Replace("""
                  notices:
                    - version: "2025-09"
                      effectiveFrom: 2025-09-01
                      texts:
                        - language: fr
                          url: https://teleconsultation.example/notices/research/2025-09/fr
            """, """
                  notices:
                    - version: "2026-01"
                      effectiveFrom: 2025-09-01
                      texts:
                        - language: fr
                          url: https://teleconsultation.example/notices/research/2025-09/fr
            """, StringComparison.Ordinal));
        (await File.ReadAllTextAsync(purposes)).ShouldNotBe(original, "the edit applies to the shipped file");

        var (exitCode, output, error) = await CliRunner.RunAsync(["policies", "validate", "--directory", _policies, .. CliRunner.Settings(stores.Settings)]);

        exitCode.ShouldBe(1, output + error);
        error.ShouldContain("research");
        error.ShouldContain("2025-09");
        error.ShouldContain("retire");
    }

    [Fact]
    public async Task Validate_ReferencedPurposesAllDeclared_SaysHowManyWereChecked()
    {
        await ReferenceAsync("newsletter", "2025-09");
        Copy();

        var (exitCode, output, error) = await CliRunner.RunAsync(["policies", "validate", "--directory", _policies, .. CliRunner.Settings(stores.Settings)]);

        exitCode.ShouldBe(0, error);
        output.ShouldContain("References: ");
        output.ShouldContain("all declared");
    }

    private async Task ReferenceAsync(string purpose, string version)
    {
        var id = Guid.NewGuid();
        var literal = stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'";
        var time = stores.Provider == Compliance.Data.Storage.DatabaseProvider.Sqlite ? "0" : "now()";
        await StoreSql.ExecuteAsync(stores.Compliance,
            "INSERT INTO consent_subject_events (event_id, subject_id, client_id, purpose_id, state, notice_version, occurred_at, leaf_index) "
            + $"VALUES ({literal}, {literal}, 'partner', '{purpose}', 'Given', '{version}', {time}, 0)");
    }

    private void Copy()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(_policies, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy, overwrite: true);
        }
    }
}

public sealed class PolicyReferencesCommandTests_Sqlite(SqliteStores stores) : PolicyReferencesCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PolicyReferencesCommandTests_Postgres(PostgresStores stores) : PolicyReferencesCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
