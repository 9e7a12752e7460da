using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compliance.Oidc.Clients;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// The patient pages as a patient reads them, in French and English, on both providers: the way back (header,
/// "My authorisations", "Not you?"), the honest sentences, staying signed in as a choice, readable refusals and
/// the sign-up page. Sentences are found in the parsed elements, by id, not as substrings of the page.
/// </summary>
public abstract class PatientPagesTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private const string Password = "a long enough password";
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    private const int RefreshDays = 7;
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData("fr", null)]
    [InlineData("en", "en-GB fr")]
    public async Task ConsentPageAndAuthorizations_InEachLanguage_ShowTheWayBackAndTheHonestSentences(string language, string? uiLocales)
    {
        var (clientId, _) = await RegisterAsync();
        using var patient = NewBrowser();
        patient.Language = "fr-FR"; // ui_locales, when given, wins over the browser's language
        var pseudonym = "pages-" + Guid.NewGuid().ToString("N")[..8];
        var html = await ConsentPageAsync(patient, clientId, pseudonym, uiLocales);
        var fr = language == "fr";

        Attribute(html, "html", "lang").ShouldBe(language);
        Text(html, "signed-in-pseudonym").ShouldBe(pseudonym);
        Text(html, "nav-authorizations").ShouldBe(fr ? "Mes autorisations" : "My authorisations");
        Attribute(html, "#nav-authorizations", "href").ShouldBe("/account");
        Attribute(html, "#nav-signout", "href").ShouldBe("/connect/endsession");
        Attribute(html, "#consent-authorizations", "href").ShouldBe("/account");
        Text(html, "not-you").ShouldBe(fr ? "Ce n'est pas vous ? Se déconnecter et recommencer" : "Not you? Sign out and start again");

        Text(html, "offline_access_label").ShouldBe(fr
            ? $"Rester connecté : Partenaire pourra continuer à recevoir votre identifiant pseudonyme sans vous redemander de vous connecter, pendant {RefreshDays} jours au plus, ou jusqu'à ce que vous retiriez cette autorisation."
            : $"Staying signed in: Partenaire may keep receiving your pseudonymous identifier without asking you to sign in again, for at most {RefreshDays} days, or until you withdraw this permission.");
        Tag(html, "offline_access").ShouldContain("type=\"checkbox\"");
        Tag(html, "offline_access").ShouldNotContain("checked", customMessage: "staying signed in is never pre-ticked");
        Text(html, "nothing-else").ShouldBe(fr
            ? "Ce service ne transmet rien d'autre à Partenaire : ni votre identité civile, ni le motif de vos consultations. Ce que vous confiez directement à Partenaire ne passe pas par ce service."
            : "This service sends nothing else to Partenaire: neither your civil identity nor the reason for your consultations. What you tell Partenaire directly does not go through this service.");
        Text(html, "withdraw").ShouldBe(fr
            ? "Vous pourrez retirer cette autorisation à tout moment, en un clic, depuis « Mes autorisations » : Partenaire n'aura alors plus accès à votre compte par ce service. Mes autorisations"
            : "You can withdraw this permission at any time, in one click, from \"My authorisations\": Partenaire will then no longer have access to your account through this service. My authorisations");
        Text(html, "erasure").ShouldBe(fr
            ? "Retirer l'autorisation n'efface pas ce que Partenaire détient déjà. Pour en demander l'effacement, écrivez au délégué à la protection des données : dpo@teleconsultation.example"
            : "Withdrawing does not erase what Partenaire already holds. To ask for its erasure, write to the data protection officer: dpo@teleconsultation.example");
        Attribute(html, "#dpo-contact", "href").ShouldBe("mailto:dpo@teleconsultation.example");
        Tag(html, "deny").ShouldNotContain("class=", customMessage: "Refuser looks exactly like Autoriser");
        Tag(html, "allow").ShouldNotContain("class=");

        // Allowed with the box ticked: "My authorisations" shows the grant with the real lifetime, in the same language.
        patient.Language = language;
        (await DecideAsync(patient, html, "allow", offline: true)).Headers.Location!.ToString().ShouldContain("code=");
        var account = await (await patient.GetAsync("/account")).Content.ReadAsStringAsync();
        Text(account, "signed-in-pseudonym").ShouldBe(pseudonym);
        Text(account, "authorizations-intro").ShouldBe(fr
            ? "Les services qui reçoivent votre identifiant pseudonyme. Retirer une autorisation coupe tout de suite leur accès par ce service ; cela n'efface pas ce qu'ils détiennent déjà."
            : "The services that receive your pseudonymous identifier. Withdrawing an authorisation cuts their access through this service at once; it does not erase what they already hold.");
        Text(account, $"scope-{clientId}-offline_access").ShouldContain(fr ? $"pendant {RefreshDays} jours au plus" : $"for at most {RefreshDays} days");
        Text(account, "erasure").ShouldEndWith("dpo@teleconsultation.example");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StayingSignedIn_IsTheBox_UntickedMeansNoRefreshToken(bool ticked)
    {
        var (clientId, secret) = await RegisterAsync();
        using var patient = NewBrowser();
        var html = await ConsentPageAsync(patient, clientId, "offline-" + Guid.NewGuid().ToString("N")[..8], null);
        var callback = (await DecideAsync(patient, html, "allow", offline: ticked)).Headers.Location!.ToString();
        var code = Regex.Match(callback, "[?&]code=([^&]+)").Groups[1].Value;
        code.ShouldNotBeEmpty(callback);

        using var http = _factory.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Uri.UnescapeDataString(code), ["redirect_uri"] = RedirectFor(clientId), ["code_verifier"] = Verifier,
        }));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        body.TryGetProperty("refresh_token", out _).ShouldBe(ticked);
        (body.TryGetProperty("scope", out var scope) ? scope.GetString() ?? "" : "").Contains("offline_access", StringComparison.Ordinal).ShouldBe(ticked);
    }

    [Fact]
    public async Task NotYou_SignsOutAndComesBackToTheSignInPageOfTheSameRequest()
    {
        var (clientId, _) = await RegisterAsync();
        using var patient = NewBrowser();
        var html = await ConsentPageAsync(patient, clientId, "notyou-" + Guid.NewGuid().ToString("N")[..8], null);
        var confirm = await (await patient.GetAsync(WebUtility.HtmlDecode(Attribute(html, "#not-you", "href")))).Content.ReadAsStringAsync();
        Text(confirm, "signed-in-pseudonym").ShouldStartWith("notyou-");
        var form = Regex.Matches(confirm, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        var signedOut = await patient.PostFormAsync("/connect/endsession", form);

        signedOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedOut.Headers.Location!.ToString().ShouldStartWith("/account/login?interaction=");
        var signIn = await (await patient.GetAsync(signedOut.Headers.Location!.ToString())).Content.ReadAsStringAsync();
        signIn.ShouldNotContain("signed-in-pseudonym", customMessage: "signed out");
        Text(signIn, "signin-for").ShouldBe("pour continuer vers Partenaire");

        // Another patient signs in on that page and reaches the consent page of the same request.
        var other = await patient.FollowAsync(await patient.SignUpAsync("other-" + Guid.NewGuid().ToString("N")[..8], Password, PatientBrowser.Hidden(signIn, "interaction")));
        Text(await other.Content.ReadAsStringAsync(), "signed-in-pseudonym").ShouldStartWith("other-");
    }

    [Fact]
    public async Task RateLimited_BrowserGetsAFrenchPageWithRetryAfter_ApiGetsProblemJson()
    {
        var settings = new Dictionary<string, string?>(stores.Settings)
        {
            ["Oidc:InteractiveRequestsPerMinute"] = "2",
            ["Oidc:TokenRequestsPerSecond"] = "1",
        };
        using var factory = new ComplianceFactory(settings);
        using var patient = new PatientBrowser(factory.Server.CreateHandler(), new Uri("http://localhost")) { Language = "fr-FR,fr;q=0.9" };
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            var response = await patient.PostFormAsync("/account/login", new Dictionary<string, string> { ["pseudonym"] = "x", ["password"] = "y" });
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        refused.ShouldNotBeNull();
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        int.Parse(refused.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
        var page = await refused.Content.ReadAsStringAsync();
        Attribute(page, "html", "lang").ShouldBe("fr");
        Text(page, "retry-after").ShouldMatch(@"^Trop de demandes en peu de temps depuis votre connexion\. Par sécurité, patientez \d+ (secondes?|minutes?), puis réessayez\.$");

        using var api = factory.CreateClient();
        HttpResponseMessage? apiRefused = null;
        for (var i = 0; i < 20 && apiRefused is null; i++)
        {
            var response = await api.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }));
            apiRefused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        apiRefused.ShouldNotBeNull();
        apiRefused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        apiRefused.Headers.RetryAfter.ShouldNotBeNull();
        JsonDocument.Parse(await apiRefused.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32().ShouldBe(429);
    }

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/account/signup")]
    public async Task RateLimited_FlowPost_IsInThePartnersUiLocales_NotTheBrowsersLanguage(string path)
    {
        var settings = new Dictionary<string, string?>(stores.Settings) { ["Oidc:InteractiveRequestsPerMinute"] = "2" };
        using var factory = new ComplianceFactory(settings);
        var (clientId, _) = await RegisterAsync(factory);
        using var patient = new PatientBrowser(factory.Server.CreateHandler(), new Uri("http://localhost")) { Language = "fr-FR,fr;q=0.9" };
        var toSignIn = await patient.GetAsync(AuthorizeUrl(clientId, "en"));
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);

        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            var response = await patient.PostFormAsync(path, new Dictionary<string, string> { ["interaction"] = interaction, ["pseudonym"] = "x", ["password"] = "y" });
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        refused.ShouldNotBeNull();
        refused.Headers.RetryAfter.ShouldNotBeNull();
        var page = await refused.Content.ReadAsStringAsync();
        Attribute(page, "html", "lang").ShouldBe("en");
        Text(page, "retry-after").ShouldStartWith("Too many requests in a short time");

        // A forged or foreign interaction token falls back to the browser's language, and is not an error.
        var forged = await patient.PostFormAsync(path, new Dictionary<string, string> { ["interaction"] = interaction[..^4] + "AAAA" });
        forged.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        Attribute(await forged.Content.ReadAsStringAsync(), "html", "lang").ShouldBe("fr");
    }

    [Fact]
    public async Task ConsentPage_OfANativeApp_LetsItsFormRedirectToThePrivateUseScheme_AndNowhereElse()
    {
        var clientId = "native-" + Guid.NewGuid().ToString("N")[..8];
        const string redirect = "fr.exemple.patient:/oauth/cb";
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(clientId, "Appli", ClientTypes.Public, ClientAuthMethods.None, [redirect], [], ["openid"], ["authorization_code"]),
                CancellationToken.None);
        }

        using var patient = NewBrowser();
        var toSignIn = await patient.GetAsync($"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(redirect)}"
            + $"&scope=openid&code_challenge={Challenge}&code_challenge_method=S256");
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var consent = await patient.FollowAsync(await patient.SignUpAsync("native-" + Guid.NewGuid().ToString("N")[..8], Password, interaction));

        // Browsers apply form-action to the redirect that ends the consent form: the app's scheme must be in it.
        var policy = consent.Headers.GetValues("Content-Security-Policy").Single();
        var formAction = policy.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("form-action ", StringComparison.Ordinal));
        formAction.ShouldBe("form-action 'self' fr.exemple.patient:");
        (await DecideAsync(patient, await consent.Content.ReadAsStringAsync(), "allow", offline: false))
            .Headers.Location!.ToString().ShouldStartWith(redirect + "?code=");
    }

    [Fact]
    public async Task Lockout_OfAnUnknownPseudonym_IsAReadablePageWithRetryAfter()
    {
        using var patient = NewBrowser();
        patient.Language = "en";
        var pseudonym = "nobody-" + Guid.NewGuid().ToString("N")[..8];
        HttpResponseMessage? locked = null;
        for (var i = 0; i < 8 && locked is null; i++)
        {
            var page = await (await patient.GetAsync("/account/login")).Content.ReadAsStringAsync();
            var response = await patient.PostFormAsync("/account/login", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
                ["interaction"] = "",
                ["pseudonym"] = pseudonym,
                ["password"] = "not the password at all",
            });
            locked = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        locked.ShouldNotBeNull();
        locked.Headers.RetryAfter!.ToString().ShouldBe("900");
        WebUtility.HtmlDecode(Regex.Match(await locked.Content.ReadAsStringAsync(), "<p class=\"alert\" role=\"alert\">([^<]*)</p>").Groups[1].Value).ShouldBe(
            "Too many attempts for this pseudonym: for your safety, signing in is blocked for 15 minutes. Try again after that.");
    }

    [Fact]
    public async Task SignUp_ShowsTheRulesFirst_KeepsThePseudonymNotThePassword_AndWarnsAboutLostPasswords()
    {
        using var patient = NewBrowser();
        var page = await (await patient.GetAsync("/account/signup")).Content.ReadAsStringAsync();
        Text(page, "signup-rules").ShouldBe("Pseudonyme : de 3 à 32 caractères, parmi les lettres sans accent, les chiffres, « - », « _ » et « . ». Mot de passe : au moins 12 caractères.");
        Text(page, "signup-recovery").ShouldBe("Important : un mot de passe perdu ne peut pas encore être récupéré, car ce service ne connaît ni votre e-mail ni votre téléphone. Enregistrez-le dans un gestionnaire de mots de passe.");

        Text(page, "signup-controller").ShouldBe("Responsable du traitement de vos données : Exemple Téléconsultation SAS. Délégué à la protection des données : dpo@teleconsultation.example");
        Attribute(page, "#dpo-contact", "href").ShouldBe("mailto:dpo@teleconsultation.example");

        var refused = await patient.PostFormAsync("/account/signup", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = "",
            ["pseudonym"] = "kept.pseudo-1",
            ["password"] = "first long password",
            ["password_confirm"] = "another long password",
        });
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var again = await refused.Content.ReadAsStringAsync();
        Tag(again, "pseudonym").ShouldContain("value=\"kept.pseudo-1\"");
        Tag(again, "password").ShouldNotContain("value=");
        again.ShouldNotContain("first long password");
        Text(again, "signup-rules").ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("fr", "fr-FR,fr;q=0.9", "Comment vos données sont traitées : la notice d'information complète")]
    [InlineData("en", "en-GB,en;q=0.9", "How your data are processed: the full privacy notice")]
    public async Task SignUpAndConsentPages_InTheirLanguage_LinkThePrivacyNoticeInThatLanguage(string language, string acceptLanguage, string linkText)
    {
        var (clientId, _) = await RegisterAsync();
        using var patient = NewBrowser();
        patient.Language = acceptLanguage;

        var signUp = await (await patient.GetAsync("/account/signup")).Content.ReadAsStringAsync();
        var consent = await ConsentPageAsync(patient, clientId, "notice-" + Guid.NewGuid().ToString("N")[..8], null);

        foreach (var page in new[] { signUp, consent })
        {
            Attribute(page, "html", "lang").ShouldBe(language);
            Text(page, "privacy-notice-link").ShouldBe(linkText);
            Attribute(page, "#privacy-notice-link", "href").ShouldBe($"/privacy?lang={language}");
            Regex.Count(page, "<form\\b").ShouldBe(1, "the link adds no form");
        }

        // The link leads to the notice in the page's language.
        var notice = await (await patient.GetAsync(Attribute(consent, "#privacy-notice-link", "href"))).Content.ReadAsStringAsync();
        Attribute(notice, "html", "lang").ShouldBe(language);
        Text(notice, "controller-name").ShouldBe("Exemple Téléconsultation SAS");
    }

    [Fact]
    public async Task Root_LeadsToAccount_AndTheSignedOutPageLeadsBackToSignIn()
    {
        using var patient = NewBrowser();
        var root = await patient.GetAsync("/");
        root.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        root.Headers.Location!.ToString().ShouldBe("/account");
        (await patient.GetAsync("/account")).Headers.Location!.ToString().ShouldStartWith("/account/login");

        await patient.SignUpAsync("root-" + Guid.NewGuid().ToString("N")[..8], Password);
        var confirm = await (await patient.GetAsync("/connect/endsession")).Content.ReadAsStringAsync();
        var done = await (await patient.PostFormAsync("/connect/endsession", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(confirm, "__RequestVerificationToken"),
            ["confirm"] = "1",
        })).Content.ReadAsStringAsync();
        Text(done, "signed-out").ShouldBe("Vous êtes déconnecté.");
        Attribute(done, "#signin-again", "href").ShouldBe("/account");
        done.ShouldNotContain("signed-in-pseudonym");
    }

    private PatientBrowser NewBrowser() => new(_factory.Server.CreateHandler(), new Uri("http://localhost"));

    private Task<(string ClientId, string Secret)> RegisterAsync() => RegisterAsync(_factory);

    private static async Task<(string ClientId, string Secret)> RegisterAsync(ComplianceFactory factory)
    {
        var clientId = "pages-" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = factory.Services.CreateAsyncScope();
        var registered = await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
            new ClientRequest(clientId, "Partenaire", ClientTypes.Confidential, ClientAuthMethods.SecretBasic, [RedirectFor(clientId)], [],
                ["openid", "offline_access"], ["authorization_code", "refresh_token"], RefreshTokenAbsoluteLifetimeSeconds: RefreshDays * 86_400),
            CancellationToken.None);
        return (clientId, registered.Secret!);
    }

    /// <summary>A new patient signs up from the authorization request and lands on its consent page.</summary>
    private static async Task<string> ConsentPageAsync(PatientBrowser patient, string clientId, string pseudonym, string? uiLocales)
    {
        var toSignIn = await patient.GetAsync(AuthorizeUrl(clientId, uiLocales));
        var interaction = Uri.UnescapeDataString(toSignIn.Headers.Location!.OriginalString.Split("interaction=")[1]);
        var consent = await patient.FollowAsync(await patient.SignUpAsync(pseudonym, Password, interaction));
        var html = await consent.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"allow\"");
        return html;
    }

    private static string AuthorizeUrl(string clientId, string? uiLocales) =>
        $"/connect/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectFor(clientId))}"
        + $"&scope=openid%20offline_access&code_challenge={Challenge}&code_challenge_method=S256"
        + (uiLocales is null ? "" : "&ui_locales=" + Uri.EscapeDataString(uiLocales));

    private static Task<HttpResponseMessage> DecideAsync(PatientBrowser patient, string html, string decision, bool offline)
    {
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PatientBrowser.Hidden(html, "__RequestVerificationToken"),
            ["interaction"] = PatientBrowser.Hidden(html, "interaction"),
            ["decision"] = decision,
        };
        if (offline)
        {
            form["offline_access"] = "yes";
        }

        return patient.PostFormAsync("/connect/consent", form);
    }

    private static string RedirectFor(string clientId) => $"https://{clientId}.example/cb";
}

public sealed class PatientPagesTests_Sqlite(SqliteStores stores) : PatientPagesTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PatientPagesTests_Postgres(PostgresStores stores) : PatientPagesTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
