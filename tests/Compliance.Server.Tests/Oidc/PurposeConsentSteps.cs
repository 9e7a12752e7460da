using AngleSharp.Html.Parser;
using Compliance.Oidc.Clients;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>The steps of the per-purpose consent screen that its tests share: a partner as controller, the page, a decision.</summary>
internal static class PurposeConsentSteps
{
    public const string Password = "a long enough password";

    /// <summary>A confidential partner registered as controller, allowed openid, research and newsletter.</summary>
    public static async Task<string> RegisterAsync(IServiceProvider services, string prefix)
    {
        var clientId = prefix + Guid.NewGuid().ToString("N")[..8];
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Clinique", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [$"https://{clientId}.example/cb"], [],
                ["openid", "research", "newsletter"], ["authorization_code"],
                ControllerName: "Clinique Exemple SAS", DpoContact: "mailto:dpo@clinique.example", NoticeUrl: "https://clinique.example/privacy"),
            CancellationToken.None);
        return clientId;
    }

    public static string Authorize(string clientId, string scope, string extra = "") =>
        $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString($"https://{clientId}.example/cb")}"
        + $"&scope={Uri.EscapeDataString(scope)}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256{extra}";

    /// <summary>A new patient signs up from the authorization request and lands on its consent page; returns the page.</summary>
    public static async Task<string> ConsentPageAsync(PatientBrowser patient, string clientId, string scope, string? language)
    {
        var authorize = await patient.GetAsync(Authorize(clientId, scope, language is null ? "" : $"&ui_locales={language}"));
        var interaction = Uri.UnescapeDataString(authorize.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var page = await patient.FollowAsync(await patient.SignUpAsync("purposes-" + Guid.NewGuid().ToString("N")[..8], Password, interaction));
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"allow\"");
        return html;
    }

    /// <summary>Posts the page's form with <paramref name="decision"/>, its notice versions as shown, and <paramref name="fields"/>.</summary>
    public static Task<HttpResponseMessage> DecideAsync(PatientBrowser patient, string html, string decision, Dictionary<string, string> fields)
    {
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(html, "interaction"),
            ["decision"] = decision,
        };
        foreach (var input in new HtmlParser().ParseDocument(html).QuerySelectorAll("input[type=hidden][name^='notice:']"))
        {
            form[input.GetAttribute("name")!] = input.GetAttribute("value")!;
        }

        foreach (var (name, value) in fields)
        {
            form[name] = value;
        }

        return patient.PostFormAsync("/connect/consent", form);
    }
}
