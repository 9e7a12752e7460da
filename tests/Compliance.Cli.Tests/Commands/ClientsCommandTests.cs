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

    [Fact]
    public async Task Add_RemovedClientId_IsRefusedAsRemoved()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "gone", "--name", "Gone", "--redirect-uri", "https://gone.example/cb", .. Settings]);
        (await CliRunner.RunAsync(["clients", "remove", "gone", .. Settings])).ExitCode.ShouldBe(0);

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "gone", "--name", "New owner", "--redirect-uri", "https://new-owner.example/cb", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("'gone' was removed");
        (await CliRunner.RunAsync(["clients", "show", "gone", .. Settings])).ExitCode.ShouldBe(1);
    }

    [Fact]
    public async Task Add_LoopbackRedirects_EachClientGetsItsOwnSector()
    {
        var first = await CliRunner.RunAsync(["clients", "add", "--id", "Local.One", "--name", "One", "--json", "--redirect-uri", "http://127.0.0.1:5081/cb", .. Settings]);
        var second = await CliRunner.RunAsync(["clients", "add", "--id", "local-two", "--name", "Two", "--json", "--redirect-uri", "http://localhost:5081/cb", .. Settings]);

        JsonDocument.Parse(first.Output).RootElement.GetProperty("sector").GetString().ShouldBe("client:local.one");
        JsonDocument.Parse(second.Output).RootElement.GetProperty("sector").GetString().ShouldBe("client:local-two");
    }

    [Fact]
    public async Task Add_HostAlreadyASector_IsRefusedNamingTheClientUnlessShared()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "owner", "--name", "Owner", "--redirect-uri", "https://one-host.example/a", .. Settings]);

        var refused = await CliRunner.RunAsync(["clients", "add", "--id", "guest", "--name", "Guest", "--redirect-uri", "https://one-host.example/b", .. Settings]);
        refused.ExitCode.ShouldBe(1);
        refused.Error.ShouldContain("one-host.example");
        refused.Error.ShouldContain("owner");
        refused.Error.ShouldContain("--shared-sector");

        var shared = await CliRunner.RunAsync(["clients", "add", "--id", "guest", "--name", "Guest", "--redirect-uri", "https://one-host.example/b", "--shared-sector", .. Settings]);
        shared.ExitCode.ShouldBe(0);
        shared.Output.ShouldContain("guest and owner will see the same identifier for a patient");
    }

    [Fact]
    public async Task Add_SectorOfARemovedClient_IsStillTaken()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "former", "--name", "Former", "--redirect-uri", "https://former-host.example/cb", .. Settings]);
        await CliRunner.RunAsync(["clients", "remove", "former", .. Settings]);

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "successor", "--name", "S", "--redirect-uri", "https://former-host.example/cb", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("former");
    }

    [Fact]
    public async Task Add_BackchannelLogoutUri_IsStoredAndShown()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "bcl", "--name", "BCL", "--redirect-uri", "https://bcl.example/cb",
            "--backchannel-logout-uri", "https://bcl.example/logout", .. Settings]);
        exitCode.ShouldBe(0, error);

        var shown = JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "bcl", .. Settings])).Output).RootElement;
        shown.GetProperty("BackchannelLogoutUri").GetString().ShouldBe("https://bcl.example/logout");
        (await CliRunner.RunAsync(["clients", "list", .. Settings])).Output.ShouldContain("https://bcl.example/logout");
    }

    [Theory]
    [InlineData("http://bcl-insecure.example/logout", false)]
    [InlineData("http://127.0.0.1:5081/logout", false)]
    [InlineData("https://bcl-fragment.example/logout#top", true)]
    [InlineData("https://user:secret@bcl-credentials.example/logout", true)]
    [InlineData("logout", true)]
    public async Task Add_BadBackchannelLogoutUri_IsRefusedNamingTheField(string uri, bool allowLoopbackHttp)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "bcl-bad", "--name", "BCL", "--grant", "client_credentials",
            "--backchannel-logout-uri", uri, "--set", $"Oidc:AllowLoopbackHttpFetch={allowLoopbackHttp}", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("backchannel_logout_uri");
        error.ShouldNotContain("secret");
    }

    [Fact]
    public async Task Add_LoopbackHttpBackchannelLogoutUri_IsAcceptedWhenAllowed()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "bcl-local", "--name", "BCL", "--grant", "client_credentials",
            "--backchannel-logout-uri", "http://127.0.0.1:5081/logout", "--set", "Oidc:AllowLoopbackHttpFetch=true", .. Settings]);

        exitCode.ShouldBe(0, error);
    }
}

public sealed class ClientsCommandTests_Sqlite(SqliteStores stores) : ClientsCommandTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientsCommandTests_Postgres(PostgresStores stores) : ClientsCommandTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
