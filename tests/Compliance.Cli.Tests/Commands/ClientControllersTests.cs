using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Testing;

namespace Compliance.Cli.Tests.Commands;

/// <summary>
/// <c>clients add|update --controller-name --dpo-contact --notice-url</c>: each partner is its own controller, required
/// for a scope that rests on consent, with hostile values refused in one line, on both providers.
/// </summary>
public abstract class ClientControllersTests<TStores>(TStores stores)
    where TStores : StoreFixture
{
    private static readonly string[] Controller =
        ["--controller-name", "Clinique Exemple SAS", "--dpo-contact", "mailto:dpo@clinique.example", "--notice-url", "https://clinique.example/privacy"];

    private string[] Settings => CliRunner.Settings(stores.Settings);

    [Fact]
    public async Task Add_ConsentScopeWithTheThreeControllerFields_IsRegisteredAndShown()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "with-controller", "--name", "Clinique",
            "--redirect-uri", "https://with-controller.example/cb", "--scope", "openid", "--scope", "research", .. Controller, .. Settings]);

        exitCode.ShouldBe(0, error);
        var shown = JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "with-controller", .. Settings])).Output).RootElement;
        shown.GetProperty("ControllerName").GetString().ShouldBe("Clinique Exemple SAS");
        shown.GetProperty("DpoContact").GetString().ShouldBe("mailto:dpo@clinique.example");
        shown.GetProperty("NoticeUrl").GetString().ShouldBe("https://clinique.example/privacy");
        shown.GetProperty("AllowedScopes").GetString().ShouldBe("openid research");
        (await CliRunner.RunAsync(["clients", "list", .. Settings])).Output.ShouldContain("with-controller\t");
        (await CliRunner.RunAsync(["clients", "list", .. Settings])).Output.ShouldContain("\tClinique Exemple SAS");
    }

    [Fact]
    public async Task Add_ConsentScopeWithoutControllerFields_IsRefusedInOneLine()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "no-controller", "--name", "N",
            "--redirect-uri", "https://no-controller.example/cb", "--scope", "openid", "--scope", "newsletter",
            "--controller-name", "Only A Name", .. Settings]);

        exitCode.ShouldBe(1);
        error.Trim().Split('\n').ShouldHaveSingleItem()
            .ShouldBe("controller: scope 'newsletter' rests on consent, which the patient gives to this partner as controller: "
                + "register it with --controller-name, --dpo-contact and --notice-url.");
        (await CliRunner.RunAsync(["clients", "show", "no-controller", .. Settings])).ExitCode.ShouldBe(1);
    }

    [Fact]
    public async Task Add_OnlyOpenIdWithoutControllerFields_IsRegistered()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "plain-openid", "--name", "P",
            "--redirect-uri", "https://plain-openid.example/cb", .. Settings]);

        exitCode.ShouldBe(0, error);
        JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "plain-openid", .. Settings])).Output).RootElement
            .GetProperty("ControllerName").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory]
    [InlineData("--controller-name", "Evil\r\nSet-Cookie: x=1", "controller name:")]
    [InlineData("--controller-name", "Evil\u202Egnp.exe", "controller name:")]
    [InlineData("--controller-name", "   ", "controller name:")]
    [InlineData("--dpo-contact", "javascript:alert(1)", "DPO contact:")]
    [InlineData("--dpo-contact", "mailto:dpo@clinique.example?body=hi", "DPO contact:")]
    [InlineData("--dpo-contact", "mailto:dpo@clinique.example%0D%0ABcc:x@evil.example", "DPO contact:")]
    [InlineData("--dpo-contact", "http://clinique.example/dpo", "DPO contact:")]
    [InlineData("--notice-url", "http://clinique.example/privacy", "notice URL:")]
    [InlineData("--notice-url", "javascript:alert(document.cookie)", "notice URL:")]
    [InlineData("--notice-url", "https://user:pass@clinique.example/privacy", "notice URL:")]
    [InlineData("--notice-url", "https://clinique.example/privacy\r\nx", "notice URL:")]
    public async Task Add_HostileControllerValue_IsRefusedWithoutEchoingIt(string option, string value, string field)
    {
        var args = Controller.ToList();
        args[args.IndexOf(option) + 1] = value;

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "hostile", "--name", "H",
            "--redirect-uri", "https://hostile.example/cb", "--scope", "openid", "--scope", "research", .. args, .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldStartWith(field);
        error.ShouldNotContain(value);
        (await CliRunner.RunAsync(["clients", "show", "hostile", .. Settings])).ExitCode.ShouldBe(1);
    }

    [Theory]
    [InlineData("--controller-name", 201)]
    [InlineData("--dpo-contact", 321)]
    [InlineData("--notice-url", 2001)]
    public async Task Add_OverlongControllerValue_IsRefused(string option, int length)
    {
        var value = option switch
        {
            "--controller-name" => new string('a', length),
            "--dpo-contact" => "https://clinique.example/" + new string('d', length - 25),
            _ => "https://clinique.example/" + new string('n', length - 25),
        };
        value.Length.ShouldBe(length);
        var args = Controller.ToList();
        args[args.IndexOf(option) + 1] = value;

        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "overlong", "--name", "O",
            "--redirect-uri", "https://overlong.example/cb", "--scope", "openid", "--scope", "research", .. args, .. Settings]);

        exitCode.ShouldBe(1);
        error.ShouldStartWith(option switch { "--controller-name" => "controller name: 1 to 200", "--dpo-contact" => "DPO contact:", _ => "notice URL:" });
    }

    [Fact]
    public async Task Add_AtTheLengthLimits_IsRegistered()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync(["clients", "add", "--id", "at-limits", "--name", "L",
            "--redirect-uri", "https://at-limits.example/cb", "--scope", "openid", "--scope", "research",
            "--controller-name", new string('é', 200), "--dpo-contact", "https://clinique.example/" + new string('d', 295),
            "--notice-url", "https://clinique.example/" + new string('n', 1975), .. Settings]);

        exitCode.ShouldBe(0, error);
    }

    [Fact]
    public async Task Update_AddingAConsentScopeWithoutController_IsRefusedThenAcceptedWithIt()
    {
        (await CliRunner.RunAsync(["clients", "add", "--id", "grows", "--name", "G", "--redirect-uri", "https://grows.example/cb", .. Settings]))
            .ExitCode.ShouldBe(0);

        var refused = await CliRunner.RunAsync(["clients", "update", "grows", "--scope", "openid", "--scope", "identity", .. Settings]);
        var accepted = await CliRunner.RunAsync(["clients", "update", "grows", "--scope", "openid", "--scope", "identity", .. Controller, "--operator", "ops-eve", .. Settings]);

        refused.ExitCode.ShouldBe(1);
        refused.Error.ShouldContain("controller: scope 'identity' rests on consent");
        accepted.ExitCode.ShouldBe(0, accepted.Error);
        accepted.Output.ShouldContain("scopes, controller_name, dpo_contact, notice_url");
        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientUpdated.Id, "\"grows\"")).ShouldHaveSingleItem();
        using var details = JsonDocument.Parse(row.Details!);
        details.RootElement.GetProperty("controller_name").GetString().ShouldBe("Clinique Exemple SAS");
        details.RootElement.GetProperty("dpo_contact").GetString().ShouldBe("mailto:dpo@clinique.example");
        details.RootElement.GetProperty("notice_url").GetString().ShouldBe("https://clinique.example/privacy");
    }

    [Fact]
    public async Task Update_EachControllerField_ChangesOnlyThatOne()
    {
        (await CliRunner.RunAsync(["clients", "add", "--id", "renamed", "--name", "R", "--redirect-uri", "https://renamed.example/cb",
            "--scope", "openid", "--scope", "research", .. Controller, .. Settings])).ExitCode.ShouldBe(0);

        var result = await CliRunner.RunAsync(["clients", "update", "renamed", "--dpo-contact", "https://clinique.example/dpo", .. Settings]);
        var hostile = await CliRunner.RunAsync(["clients", "update", "renamed", "--notice-url", "javascript:alert(1)", .. Settings]);

        result.ExitCode.ShouldBe(0, result.Error);
        result.Output.ShouldContain("Updated renamed: dpo_contact.");
        hostile.ExitCode.ShouldBe(1);
        var shown = JsonDocument.Parse((await CliRunner.RunAsync(["clients", "show", "renamed", .. Settings])).Output).RootElement;
        shown.GetProperty("DpoContact").GetString().ShouldBe("https://clinique.example/dpo");
        shown.GetProperty("ControllerName").GetString().ShouldBe("Clinique Exemple SAS");
        shown.GetProperty("NoticeUrl").GetString().ShouldBe("https://clinique.example/privacy");
    }

    [Fact]
    public async Task Add_ConsentScope_AuditRowHoldsTheControllerFields()
    {
        (await CliRunner.RunAsync(["clients", "add", "--id", "audited-controller", "--name", "A", "--redirect-uri", "https://audited-controller.example/cb",
            "--scope", "openid", "--scope", "newsletter", .. Controller, .. Settings])).ExitCode.ShouldBe(0);

        var row = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.ClientRegistered.Id, "\"audited-controller\"")).ShouldHaveSingleItem();

        using var details = JsonDocument.Parse(row.Details!);
        details.RootElement.GetProperty("controller_name").GetString().ShouldBe("Clinique Exemple SAS");
        details.RootElement.GetProperty("dpo_contact").GetString().ShouldBe("mailto:dpo@clinique.example");
        details.RootElement.GetProperty("notice_url").GetString().ShouldBe("https://clinique.example/privacy");
    }
}

public sealed class ClientControllersTests_Sqlite(SqliteStores stores) : ClientControllersTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class ClientControllersTests_Postgres(PostgresStores stores) : ClientControllersTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
