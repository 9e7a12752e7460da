using System.Text.Json;
using Compliance.Testing;

namespace Compliance.Cli.Tests.Commands;

public abstract class ClientsCommandTests<TStores>(TStores stores)
    where TStores : StoreFixture
{
    private string[] Settings => CliRunner.Settings(stores.Settings);

    [Fact]
    public async Task Add_SecretClient_PrintsTheSecretOnceAndStoresOnlyItsHash()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync(["clients", "add", "--id", "clinic-a", "--name", "Clinique A", "--json",
            "--redirect-uri", "https://clinic-a.example/cb", .. Settings]);

        exitCode.ShouldBe(0);
        var created = JsonDocument.Parse(output).RootElement;
        var secret = created.GetProperty("client_secret").GetString()!;
        secret.Length.ShouldBe(43);
        created.GetProperty("sector").GetString().ShouldBe("clinic-a.example");

        var (_, shown, _) = await CliRunner.RunAsync(["clients", "show", "clinic-a", .. Settings]);
        shown.ShouldContain("\"SecretHash\": \"(hashed)\"");
        shown.ShouldNotContain(secret);
    }

    [Fact]
    public async Task List_ThenRemove_TheClientIsGone()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "clinic-b", "--name", "Clinique B", "--redirect-uri", "https://b.example/cb", .. Settings]);

        (await CliRunner.RunAsync(["clients", "list", .. Settings])).Output.ShouldContain("clinic-b\tconfidential\tclient_secret_basic\tb.example");
        (await CliRunner.RunAsync(["clients", "remove", "clinic-b", .. Settings])).ExitCode.ShouldBe(0);
        (await CliRunner.RunAsync(["clients", "list", .. Settings])).Output.ShouldNotContain("clinic-b");
        (await CliRunner.RunAsync(["clients", "remove", "clinic-b", .. Settings])).ExitCode.ShouldBe(1);
    }

    [Theory]
    [InlineData("http://insecure.example/cb", "must be absolute, https")]
    [InlineData("https://ok.example/cb#fragment", "without fragment")]
    public async Task Add_BadRedirectUri_IsRefusedNamingIt(string redirect, string reason)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "bad-redirect", "--name", "Bad", "--redirect-uri", redirect, .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain(redirect);
        error.ShouldContain(reason);
    }

    [Fact]
    public async Task Add_PublicClientWithSecretAuth_IsRefused()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "spa", "--name", "SPA", "--type", "public",
            "--auth", "client_secret_basic", "--redirect-uri", "https://spa.example/cb", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("a public client uses 'none'");
    }

    [Fact]
    public async Task Add_SameIdTwice_IsRefused()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "twice", "--name", "Twice", "--redirect-uri", "https://t.example/cb", .. Settings]);

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "twice", "--name", "Twice", "--redirect-uri", "https://t.example/cb", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("already registered");
    }
}

public sealed class ClientsCommandTests_Sqlite(SqliteStores stores) : ClientsCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientsCommandTests_Postgres(PostgresStores stores) : ClientsCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
