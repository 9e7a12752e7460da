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
    public async Task Add_Lifetimes_AreStoredOrRefusedOutOfRange()
    {
        var (exitCode, _, _) = await CliRunner.RunAsync(["clients", "add", "--id", "lifetimes", "--name", "L", "--redirect-uri", "https://l.example/cb",
            "--access-token-lifetime", "120", "--id-token-lifetime", "600", "--refresh-sliding-lifetime", "3600", "--refresh-absolute-lifetime", "86400", .. Settings]);
        exitCode.ShouldBe(0);
        var shown = JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "lifetimes", .. Settings])).Output).RootElement;
        shown.GetProperty("AccessTokenLifetimeSeconds").GetInt32().ShouldBe(120);
        shown.GetProperty("IdTokenLifetimeSeconds").GetInt32().ShouldBe(600);
        shown.GetProperty("RefreshTokenSlidingLifetimeSeconds").GetInt32().ShouldBe(3600);
        shown.GetProperty("RefreshTokenAbsoluteLifetimeSeconds").GetInt32().ShouldBe(86400);

        var refused = await CliRunner.RunAsync(["clients", "add", "--id", "lifetimes-2", "--name", "L", "--redirect-uri", "https://l.example/cb",
            "--refresh-sliding-lifetime", "7200", "--refresh-absolute-lifetime", "3600", "--id-token-lifetime", "5", .. Settings]);
        refused.ExitCode.ShouldBe(1);
        refused.Error.ShouldContain("refresh token lifetimes");
        refused.Error.ShouldContain("ID token lifetime");
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
