using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Testing;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>clients update</c>, <c>clients rotate-secret</c>, the scopes and redirect URIs <c>clients add</c> accepts, and
/// the audit rows every change leaves, as an operator and a DPO see them, on both providers.
/// </summary>
public abstract class ClientsAdministrationTests<TStores>(TStores stores)
    where TStores : StoreFixture
{
    private static readonly string OsOperator = AuditActor.OsUser().Name;

    private string[] Settings => CliRunner.Settings(stores.Settings);

    [Theory]
    [InlineData("profile")]
    [InlineData("reports.read")]
    public async Task Add_ScopeTheServerCannotGrant_IsRefusedListingTheSupportedScopes(string scope)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "scoped-" + scope.Replace('.', '-'), "--name", "S",
            "--redirect-uri", $"https://scoped-{scope.Replace('.', '-')}.example/cb", "--scope", "openid", "--scope", scope, .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain($"scope '{scope}': not a scope this server grants; supported scopes: identity, newsletter, offline_access, openid, research.");
    }

    [Fact]
    public async Task Add_ApiScopeForAClientCredentialsOnlyClient_IsAccepted()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "machine-api", "--name", "M", "--grant", "client_credentials",
            "--scope", "reports.read", .. Settings]);

        exitCode.ShouldBe(0, error);
    }

    [Theory]
    [InlineData("com.example.app:/callback")]
    [InlineData("fr.sante.rdv:/oauth2redirect/compliance")]
    public async Task Add_PrivateUseSchemeForANativeApp_IsAcceptedWithTheClientsOwnSector(string redirect)
    {
        var clientId = "native-" + redirect.Length;
        var (exitCode, output, error) = await CliRunner.RunAsync(["clients", "add", "--id", clientId, "--name", "Native", "--type", "public", "--auth", "none",
            "--redirect-uri", redirect, "--json", .. Settings]);

        exitCode.ShouldBe(0, error);
        JsonDocument.Parse(output).RootElement.GetProperty("sector").GetString().ShouldBe("client:" + clientId);
        JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", clientId, .. Settings])).Output).RootElement
            .GetProperty("RedirectUris").GetString().ShouldBe(redirect);
    }

    [Theory]
    [InlineData("myapp:/callback", "public")]
    [InlineData("com.example.app://callback", "public")]
    [InlineData("com.example.app:/callback#top", "public")]
    [InlineData("javascript:alert(1)", "public")]
    [InlineData("com.example.app:/callback", "confidential")]
    public async Task Add_OtherCustomSchemes_AreRefusedNamingTheUri(string redirect, string type)
    {
        string[] auth = type == "public" ? ["--type", "public", "--auth", "none"] : [];
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "custom-scheme", "--name", "C", .. auth,
            "--redirect-uri", redirect, .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain($"redirect URI '{redirect}'");
        error.ShouldContain(type == "public" ? "com.example.app:/callback (RFC 8252" : "a private-use scheme is for native apps");
    }

    [Fact]
    public async Task Add_Registration_IsAuditedNamingTheOperatorWithoutSecretOrFreeText()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync(["clients", "add", "--id", "audited-add", "--name", "Clinique Saint-Éloi de Lyon", "--json",
            "--redirect-uri", "https://audited-add.example/cb", "--operator", "dpo.alice@ops", .. Settings]);
        exitCode.ShouldBe(0);
        var secret = JsonDocument.Parse(output).RootElement.GetProperty("client_secret").GetString()!;

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientRegistered.Id, "\"audited-add\"")).ShouldHaveSingleItem();

        row.Name.ShouldBe("client.registered");
        row.Actor.ShouldBe("operator:dpo.alice@ops");
        row.SubjectId.ShouldBeNull();
        ShouldHoldNoSecretOrFreeText(row, secret, "Saint-Éloi", "https://audited-add.example/cb");
    }

    [Fact]
    public async Task Update_NameRedirectsLifetimesScopesAndAcr_ChangesThemAndAuditsOnlyTheFieldNames()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "to-update", "--name", "Old name", "--redirect-uri", "https://to-update.example/cb", .. Settings]);

        var (exitCode, output, error) = await CliRunner.RunAsync(["clients", "update", "to-update", "--name", "Cabinet Dupont",
            "--redirect-uri", "https://to-update.example/new-cb", "--redirect-uri", "https://to-update.example/cb",
            "--post-logout-redirect-uri", "https://to-update.example/bye", "--access-token-lifetime", "120", "--refresh-sliding-lifetime", "3600",
            "--scope", "openid", "--min-acr", "eidas2", "--operator", "ops-bob", .. Settings]);

        exitCode.ShouldBe(0, error);
        output.ShouldContain("Updated to-update: display_name, redirect_uris, post_logout_redirect_uris, scopes, access_token_lifetime, refresh_sliding_lifetime, min_acr.");
        var shown = JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "to-update", .. Settings])).Output).RootElement;
        shown.GetProperty("DisplayName").GetString().ShouldBe("Cabinet Dupont");
        shown.GetProperty("RedirectUris").GetString().ShouldBe("https://to-update.example/new-cb https://to-update.example/cb");
        shown.GetProperty("PostLogoutRedirectUris").GetString().ShouldBe("https://to-update.example/bye");
        shown.GetProperty("AllowedScopes").GetString().ShouldBe("openid");
        shown.GetProperty("AccessTokenLifetimeSeconds").GetInt32().ShouldBe(120);
        shown.GetProperty("RefreshTokenSlidingLifetimeSeconds").GetInt32().ShouldBe(3600);
        shown.GetProperty("MinimumAcr").GetString().ShouldBe("eidas2");
        shown.GetProperty("Sector").GetString().ShouldBe("to-update.example");

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientUpdated.Id, "\"to-update\"")).ShouldHaveSingleItem();
        row.Actor.ShouldBe("operator:ops-bob");
        row.Details!.ShouldContain("display_name");
        ShouldHoldNoSecretOrFreeText(row, "(no secret)", "Dupont", "Old name", "new-cb", "/bye");

        var again = await CliRunner.RunAsync(["clients", "update", "to-update", "--no-min-acr", "--name", "Cabinet Dupont", .. Settings]);
        again.Output.ShouldContain("Updated to-update: min_acr.");
    }

    [Fact]
    public async Task Update_RedirectsOnAnotherHost_IsRefusedBecauseThePatientsIdentifiersWouldChange()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "sector-kept", "--name", "S", "--redirect-uri", "https://sector-kept.example/cb", .. Settings]);

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "update", "sector-kept", "--redirect-uri", "https://elsewhere.example/cb", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("would move the client from sector 'sector-kept.example' to 'elsewhere.example'");
        JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "sector-kept", .. Settings])).Output).RootElement
            .GetProperty("RedirectUris").GetString().ShouldBe("https://sector-kept.example/cb");
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientUpdated.Id, "\"sector-kept\"")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Update_WithTheSameChecksAsAdd_RefusesAnUnknownScopeAndABadLifetime()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "update-checked", "--name", "U", "--redirect-uri", "https://update-checked.example/cb", .. Settings]);

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "update", "update-checked", "--scope", "email", "--access-token-lifetime", "5", .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldContain("scope 'email': not a scope this server grants");
        error.ShouldContain("access token lifetime: 30 to 3600 seconds.");
    }

    [Fact]
    public async Task Update_UnknownOrRemovedClient_IsRefused()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "update-gone", "--name", "G", "--redirect-uri", "https://update-gone.example/cb", .. Settings]);
        await CliRunner.RunAsync(["clients", "remove", "update-gone", .. Settings]);

        foreach (var clientId in new[] { "update-gone", "never-registered" })
        {
            var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "update", clientId, "--name", "X", .. Settings]);
            exitCode.ShouldBe(1);
            error.ShouldContain($"No client '{clientId}' (unknown or removed).");
        }
    }

    [Fact]
    public async Task RotateSecret_PrintsANewSecretOnceKeepsThePreviousForTheOverlapAndAuditsNeither()
    {
        var added = await CliRunner.RunAsync(["clients", "add", "--id", "rotated", "--name", "R", "--json", "--redirect-uri", "https://rotated.example/cb", .. Settings]);
        var first = JsonDocument.Parse(added.Output).RootElement.GetProperty("client_secret").GetString()!;

        var (exitCode, output, error) = await CliRunner.RunAsync(["clients", "rotate-secret", "rotated", "--overlap-minutes", "30", "--json", .. Settings]);

        exitCode.ShouldBe(0, error);
        var rotated = JsonDocument.Parse(output).RootElement;
        var second = rotated.GetProperty("client_secret").GetString()!;
        second.Length.ShouldBe(43);
        second.ShouldNotBe(first);
        var until = DateTimeOffset.Parse(rotated.GetProperty("previous_valid_until").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        until.ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(29), DateTimeOffset.UtcNow.AddMinutes(31));

        var shown = (await CliRunner.RunAsync(["clients", "show", "rotated", .. Settings])).Output;
        shown.ShouldContain("\"PreviousSecretHash\": \"(hashed)\"");
        shown.ShouldNotContain(first);
        shown.ShouldNotContain(second);

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientSecretRotated.Id, "\"rotated\"")).ShouldHaveSingleItem();
        row.Actor.ShouldBe(OsOperator);
        row.Details!.ShouldContain("\"overlap_seconds\":1800");
        ShouldHoldNoSecretOrFreeText(row, first, second);
        row.AllText.ShouldNotContain(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(first))));
    }

    [Fact]
    public async Task RotateSecret_HumanOutput_SaysUntilWhenThePreviousSecretWorks()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "rotated-text", "--name", "R", "--redirect-uri", "https://rotated-text.example/cb", .. Settings]);

        var withOverlap = await CliRunner.RunAsync(["clients", "rotate-secret", "rotated-text", .. Settings]);
        var withoutOverlap = await CliRunner.RunAsync(["clients", "rotate-secret", "rotated-text", "--overlap-minutes", "0", .. Settings]);

        withOverlap.Output.ShouldContain("client_secret: ");
        withOverlap.Output.ShouldContain("The previous secret keeps working until ");
        withoutOverlap.Output.ShouldContain("The previous secret no longer works.");
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientSecretRotated.Id, "\"rotated-text\"")).Select(r => r.Details)
            .ShouldBe(["{\"client_id\":\"rotated-text\",\"overlap_seconds\":3600}", "{\"client_id\":\"rotated-text\",\"overlap_seconds\":0}"]);
    }

    [Theory]
    [InlineData("1441", 2, "--overlap-minutes: 0 to 1440.")]
    [InlineData("100000", 2, "--overlap-minutes: 0 to 1440.")]
    public async Task RotateSecret_OverlapOutOfBounds_IsRefused(string minutes, int exitCode, string message)
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "rotated-bounds", "--name", "R", "--redirect-uri", "https://rotated-bounds.example/cb", .. Settings]);

        var refused = await CliRunner.RunAsync(["clients", "rotate-secret", "rotated-bounds", "--overlap-minutes", minutes, .. Settings]);

        refused.ExitCode.ShouldBe(exitCode);
        refused.Error.ShouldContain(message);
    }

    [Fact]
    public async Task RotateSecret_ClientWithoutSecretOrUnknown_IsRefused()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "spa-no-secret", "--name", "SPA", "--type", "public", "--auth", "none",
            "--redirect-uri", "https://spa-no-secret.example/cb", .. Settings]);

        var publicClient = await CliRunner.RunAsync(["clients", "rotate-secret", "spa-no-secret", .. Settings]);
        var unknown = await CliRunner.RunAsync(["clients", "rotate-secret", "no-such-client", .. Settings]);

        publicClient.ExitCode.ShouldBe(1);
        publicClient.Error.ShouldContain("only client_secret_basic clients have a secret to rotate");
        unknown.ExitCode.ShouldBe(1);
        unknown.Error.ShouldContain("No client 'no-such-client' (unknown or removed).");
    }

    [Fact]
    public async Task Remove_IsAuditedNamingTheOperator()
    {
        await CliRunner.RunAsync(["clients", "add", "--id", "removed-audited", "--name", "R", "--redirect-uri", "https://removed-audited.example/cb", .. Settings]);

        (await CliRunner.RunAsync(["clients", "remove", "removed-audited", "--operator", "dpo_carol", .. Settings])).ExitCode.ShouldBe(0);

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientRemoved.Id, "\"removed-audited\"")).ShouldHaveSingleItem();
        row.Actor.ShouldBe("operator:dpo_carol");
        row.Details.ShouldBe("{\"client_id\":\"removed-audited\"}");
        ShouldHoldNoSecretOrFreeText(row, "(no secret)");
    }

    [Theory]
    [InlineData("")]
    [InlineData("Jean Dupont")]
    [InlineData("ops;drop")]
    [InlineData("a-very-long-operator-name-that-goes-on-and-on-beyond-sixty-four-chars")]
    public async Task Operator_NotAnAccountName_IsAUsageError(string name)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "list", "--operator", name, .. Settings]);

        exitCode.ShouldBe(2);
        error.ShouldContain("--operator: 1 to 64 characters among letters, digits, '.', '_', '-' and '@'.");
    }

    private static void ShouldHoldNoSecretOrFreeText(AuditRow row, params string[] absent)
    {
        foreach (var text in absent)
        {
            row.AllText.ShouldNotContain(text);
        }

        row.Actor.ShouldNotBe("cli");
        row.Actor.ShouldMatch("^(operator|server):[A-Za-z0-9._@-]{1,64}$");
        row.ShouldHoldOnlyIdsAndEnumeratedValues();
    }
}

public sealed class ClientsAdministrationTests_Sqlite(SqliteStores stores) : ClientsAdministrationTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientsAdministrationTests_Postgres(PostgresStores stores) : ClientsAdministrationTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
