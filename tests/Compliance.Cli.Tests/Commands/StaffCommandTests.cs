using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Audit.Trail;
using Compliance.Data.Storage;
using Compliance.Testing;

namespace Compliance.Cli.Tests.Commands;

/// <summary><c>compliance staff add|list|remove</c> against real stores: what is printed, what is stored, what is audited.</summary>
public abstract partial class StaffCommandTests<TStores>(TStores stores)
    where TStores : StoreFixture
{
    private string[] Settings => CliRunner.Settings(stores.Settings);

    [Fact]
    public async Task Add_GeneratedPassword_IsPrintedOnce_StoredOnlyHashed_AndAuditedWithoutIt()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "partner-a", "--name", "Partenaire A", "--redirect-uri", "https://partner-a.example/cb", .. Settings]);

        var (exitCode, output, error) = await CliRunner.RunAsync(["staff", "add", "dpo.alice", "--role", "dpo", "--partner", "partner-a",
            "--operator", "ops-bob", .. Settings]);

        exitCode.ShouldBe(0, error);
        output.ShouldContain("Added staff account dpo.alice (dpo, partner partner-a).");
        var password = InitialPassword().Match(output).Groups[1].Value;
        password.Length.ShouldBe(23);
        var stored = (string)(await StoreSql.ScalarAsync(stores.Compliance, "SELECT password_hash FROM staff_accounts WHERE user_name = 'dpo.alice'"))!;
        stored.ShouldNotContain(password);
        stored.Length.ShouldBeGreaterThan(60);

        var list = (await CliRunner.RunAsync(["staff", "list", .. Settings])).Output;
        list.ShouldNotContain(password);
        list.ShouldNotContain(stored);
        list.Split('\n')[0].ShouldBe("name\trole\tpartner\tsecond_factor\tcreated\tlast_sign_in");
        list.ShouldMatch(@"(?m)^dpo\.alice\tdpo\tpartner-a\tno\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\tnever$");

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.StaffAdded.Id, "\"dpo.alice\"")).ShouldHaveSingleItem();
        row.Actor.ShouldBe("operator:ops-bob");
        row.SubjectId.ShouldBeNull();
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
        row.AllText.ShouldNotContain(password);
        var details = JsonDocument.Parse(row.Details!).RootElement;
        details.GetProperty("role").GetString().ShouldBe("dpo");
        details.GetProperty("partner_client_id").GetString().ShouldBe("partner-a");
    }

    [Fact]
    public async Task Add_PasswordFromStdin_IsCheckedByThePasswordRules_AndNeverPrinted()
    {
        var common = await CliRunner.RunWithInputAsync("motdepasse123\n", ["staff", "add", "weak-admin", "--role", "admin", "--password-stdin", .. Settings]);
        common.ExitCode.ShouldBe(1);
        common.Error.Trim().ShouldBe("password: too common (words, sequences, years or repeats that attackers try first).");

        var named = await CliRunner.RunWithInputAsync("weak-admin and a long phrase\n", ["staff", "add", "weak-admin", "--role", "admin", "--password-stdin", .. Settings]);
        named.ExitCode.ShouldBe(1);
        named.Error.Trim().ShouldBe("password: it must not contain the name.");

        var empty = await CliRunner.RunWithInputAsync("", ["staff", "add", "weak-admin", "--role", "admin", "--password-stdin", .. Settings]);
        empty.ExitCode.ShouldBe(2);

        var good = await CliRunner.RunWithInputAsync("lanterne pivoine escalier 47\n", ["staff", "add", "ops-carol", "--role", "admin", "--password-stdin", .. Settings]);
        good.ExitCode.ShouldBe(0, good.Error);
        good.Output.ShouldNotContain("lanterne");
        good.Output.ShouldNotContain("initial password:");
        (await StoreSql.CountAsync(stores.Compliance, "SELECT count(*) FROM staff_accounts WHERE user_name = 'weak-admin'")).ShouldBe(0);
    }

    [Theory]
    [InlineData(new[] { "staff", "add", "someone", "--role", "root" }, 2, "--role: 'root' is not a staff role; expected dpo or admin.")]
    [InlineData(new[] { "staff", "add", "someone", "--role", "dpo", "--partner", "no-such-partner" }, 1, "--partner: no registered client 'no-such-partner' (unknown or removed).")]
    [InlineData(new[] { "staff", "add", "someone", "--role", "admin", "--partner", "no-such-partner" }, 1, "--partner: only a DPO answers for one partner; an administrator is service-wide.")]
    [InlineData(new[] { "staff", "add", "Jean Dupont", "--role", "dpo" }, 1, "name: 3 to 64 characters among letters, digits, '.', '_', '-' and '@'.")]
    [InlineData(new[] { "staff", "remove", "nobody-here" }, 1, "No staff account 'nobody-here'.")]
    public async Task BadInput_IsRefusedInOneLine_WithANonZeroExitCode(string[] args, int expectedExit, string message)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync([.. args, .. Settings]);

        exitCode.ShouldBe(expectedExit);
        error.Trim().ShouldBe(message);
        output.ShouldBeEmpty();
        (await StoreSql.CountAsync(stores.Compliance, "SELECT count(*) FROM staff_accounts WHERE user_name = 'someone'")).ShouldBe(0);
    }

    [Fact]
    public async Task Add_SameNameTwice_InAnyCase_IsRefused()
    {
        (await CliRunner.RunAsync(["staff", "add", "twice", "--role", "admin", .. Settings])).ExitCode.ShouldBe(0);

        var (exitCode, _, error) = await CliRunner.RunAsync(["staff", "add", "TWICE", "--role", "dpo", .. Settings]);

        exitCode.ShouldBe(1);
        error.Trim().ShouldBe("name: a staff account 'TWICE' already exists.");
    }

    [Fact]
    public async Task Remove_DeletesTheAccountAndItsSecondFactor_EndsItsSessions_AndIsAudited()
    {
        (await CliRunner.RunAsync(["staff", "add", "leaving", "--role", "admin", .. Settings])).ExitCode.ShouldBe(0);
        var id = (await StoreSql.ScalarAsync(stores.Compliance, "SELECT id FROM staff_accounts WHERE user_name = 'leaving'"))!.ToString();
        var now = stores.Provider == DatabaseProvider.PostgreSQL ? "now()" : "0";
        var later = stores.Provider == DatabaseProvider.PostgreSQL ? "now() + interval '1 hour'" : "9000000000000000000";
        var idValue = stores.Provider == DatabaseProvider.PostgreSQL ? $"'{id}'::uuid" : $"'{id}'";
        await StoreSql.ExecuteAsync(stores.Compliance, $"""
            INSERT INTO account_totp (account_id, protected_secret, created_at, confirmed_at, last_time_step) VALUES ({idValue}, 'sealed', {now}, {now}, 1);
            INSERT INTO account_recovery_codes (account_id, code_hash, created_at, used_at) VALUES ({idValue}, 'h1', {now}, NULL);
            INSERT INTO staff_sessions (id, staff_id, created_at, last_seen_at, absolute_expires_at, ended_at, end_reason) VALUES ('s1', {idValue}, {now}, {now}, {later}, NULL, NULL);
            """);
        (await CliRunner.RunAsync(["staff", "list", .. Settings])).Output.ShouldMatch(@"(?m)^leaving\tadmin\t-\tyes\t");

        var (exitCode, output, error) = await CliRunner.RunAsync(["staff", "remove", "leaving", "--operator", "ops-bob", .. Settings]);

        exitCode.ShouldBe(0, error);
        output.Trim().ShouldBe("Removed staff account leaving; 1 open session(s) ended.");
        (await StoreSql.CountAsync(stores.Compliance, "SELECT count(*) FROM staff_accounts WHERE user_name = 'leaving'")).ShouldBe(0);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT count(*) FROM account_totp WHERE account_id = {idValue}")).ShouldBe(0);
        (await StoreSql.CountAsync(stores.Compliance, $"SELECT count(*) FROM account_recovery_codes WHERE account_id = {idValue}")).ShouldBe(0);
        (await StoreSql.CountAsync(stores.Compliance, "SELECT count(*) FROM staff_sessions WHERE id = 's1' AND ended_at IS NOT NULL AND end_reason = 'staff_removed'")).ShouldBe(1);
        (await CliRunner.RunAsync(["staff", "list", .. Settings])).Output.ShouldNotContain("leaving");

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.StaffRemoved.Id, "\"leaving\"")).ShouldHaveSingleItem();
        row.Actor.ShouldBe("operator:ops-bob");
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
        JsonDocument.Parse(row.Details!).RootElement.GetProperty("sessions_ended").GetInt32().ShouldBe(1);
    }

    [GeneratedRegex("initial password: ([2-9a-z]{5}-[2-9a-z]{5}-[2-9a-z]{5}-[2-9a-z]{5})")]
    private static partial Regex InitialPassword();
}

public sealed class StaffCommandTests_Sqlite(SqliteStores stores) : StaffCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class StaffCommandTests_Postgres(PostgresStores stores) : StaffCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
