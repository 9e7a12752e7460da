using System.Net;
using Compliance.Policies;
using Compliance.Server.Policies;
using Compliance.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using static Compliance.Server.Tests.PageElements;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// The full privacy notice (GDPR Art. 13) as a patient reads it, in French and English, built from the shipped policy
/// files: who the controller is, each processing activity with its purposes, legal bases, recipients, transfers and
/// retention periods in words, then the rights, withdrawal, and the complaint to the CNIL.
/// </summary>
public abstract class PrivacyNoticeTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Notice_InFrench_ShowsTheControllerEachActivityAndTheRights()
    {
        var (response, html) = await GetAsync("/privacy?lang=fr");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'none'");
        html.ShouldNotContain("<script", Case.Insensitive);
        html.ShouldNotContain("style=", Case.Insensitive);
        Attribute(html, "html", "lang").ShouldBe("fr");
        Heading(html).ShouldBe("Notice d'information sur vos données");

        Text(html, "controller-name").ShouldBe("Exemple Téléconsultation SAS");
        Text(html, "controller-address").ShouldBe("Adresse : 12 rue de l'Exemple, 75011 Paris, France");
        Attribute(html, "#controller-contact-link", "href").ShouldBe("mailto:contact@teleconsultation.example");
        Text(html, "controller-dpo").ShouldBe("Délégué à la protection des données : dpo@teleconsultation.example");
        Attribute(html, "#dpo-contact", "href").ShouldBe("mailto:dpo@teleconsultation.example");

        Text(html, "entry-teleconsultation-name").ShouldBe("Téléconsultation");
        Text(html, "purpose-teleconsultation-care-name").ShouldBe("Téléconsultation et suivi des soins");
        Text(html, "legal-basis-teleconsultation-care").ShouldBe("Base légale : la prise en charge sanitaire par des professionnels soumis au secret (RGPD Art. 9(2)(h)).");
        Text(html, "legal-basis-health-research-research").ShouldBe("Base légale : votre consentement (RGPD Art. 6(1)(a) et Art. 9(2)(a)).");
        Text(html, "recipient-patient-accounts-partner-platforms").ShouldBe("Plateformes partenaires choisies par le patient");
        Text(html, "entry-teleconsultation-transfers").ShouldBe("Aucune de ces données n'est transférée hors de l'Espace économique européen.");

        Text(html, "retention-patient-accounts-inactive-account-credentials").ShouldBe("Identifiants de connexion : 2 ans après votre dernière activité sur le compte.");
        Text(html, "retention-teleconsultation-teleconsultation-record").ShouldBe(
            "Dossier de téléconsultation (compte rendu, actes, prescriptions, professionnels, date, incidents) : 20 ans après la dernière consultation, "
            + "et au moins jusqu'à l'âge de 28 ans ; en cas de décès, 10 ans après le décès.");
        Text(html, "retention-data-subject-rights-export-files").ShouldBe("Fichiers d'export (accès, portabilité) : 7 jours après la collecte.");
        Text(html, "retention-newsletter-newsletter-subscription").ShouldBe(
            "Abonnement à la lettre d'information (e-mail, thèmes) : rien n'est gardé après la fin du consentement (retrait, refus, révocation ou expiration).");

        Text(html, "right-portability").ShouldStartWith("Portabilité : recevoir les données que vous avez fournies");
        Text(html, "privacy-withdraw").ShouldContain("vous pouvez le retirer à tout moment");
        Text(html, "privacy-withdraw-link").ShouldBe("Mes autorisations");
        Attribute(html, "#privacy-withdraw-link", "href").ShouldBe("/account");
        Attribute(html, "#cnil-link", "href").ShouldBe("https://www.cnil.fr/fr/plaintes");
        Text(html, "privacy-complaint").ShouldStartWith("Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL");
        Attribute(html, "#exercise-dpo-contact", "href").ShouldBe("mailto:dpo@teleconsultation.example");
        Text(html, "privacy-automated").ShouldBe("Aucune décision fondée exclusivement sur un traitement automatisé, profilage compris, n'est prise à votre sujet (RGPD, article 22).");
        Text(html, "privacy-fingerprint").ShouldBe(_factory.Services.GetRequiredService<PolicySet>().Fingerprint);
    }

    [Fact]
    public async Task Notice_InEnglish_ShowsTheSameFactsInEnglish()
    {
        var (response, html) = await GetAsync("/privacy?lang=en");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Attribute(html, "html", "lang").ShouldBe("en");
        Heading(html).ShouldBe("Privacy notice");
        Text(html, "controller-name").ShouldBe("Exemple Téléconsultation SAS");
        Attribute(html, "#dpo-contact", "href").ShouldBe("mailto:dpo@teleconsultation.example");
        Text(html, "entry-consent-ledger-name").ShouldBe("Consent ledger");
        Text(html, "legal-basis-teleconsultation-care").ShouldBe("Legal basis: the provision of health care by professionals bound by secrecy (GDPR Art. 9(2)(h)).");
        Text(html, "retention-teleconsultation-teleconsultation-record").ShouldBe(
            "Teleconsultation record (report, acts, prescriptions, professionals, date, incidents): 20 years after the last consultation, "
            + "and at least until the age of 28; in case of death, 10 years after death.");
        Text(html, "retention-access-traceability-access-traces").ShouldBe("Access traces to health and identity data: 1 year after the recorded event.");
        Text(html, "entry-newsletter-transfers").ShouldBe("None of these data are transferred outside the European Economic Area.");
        Text(html, "privacy-withdraw-link").ShouldBe("My authorisations");
        Attribute(html, "#privacy-withdraw-link", "href").ShouldBe("/account");
        Text(html, "cnil-link").ShouldBe("Lodge a complaint with the CNIL");
        Attribute(html, "#cnil-link", "href").ShouldBe("https://www.cnil.fr/fr/plaintes");
        Text(html, "right-erasure").ShouldBe("Erasure: have your data erased, except where the law requires keeping them (Art. 17).");
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("en")]
    public async Task Notice_EveryRegisterEntry_HasItsNameAndARetentionLineForEachRule(string language)
    {
        var (_, html) = await GetAsync($"/privacy?lang={language}");
        var policies = _factory.Services.GetRequiredService<PolicySet>();

        policies.Register.ShouldNotBeEmpty();
        foreach (var entry in policies.Register)
        {
            Text(html, $"entry-{entry.Id}-name").ShouldBe(entry.Name.In(language));
            entry.ErasureTimeLimits.ShouldNotBeEmpty(entry.Id);
            foreach (var rule in entry.ErasureTimeLimits)
            {
                Text(html, $"retention-{entry.Id}-{rule.Id}").ShouldStartWith(rule.DataCategory.Name.In(language));
            }

            foreach (var purpose in entry.Purposes)
            {
                Text(html, $"legal-basis-{entry.Id}-{purpose.Id}").ShouldContain(purpose.LegalBasis.Articles[0]);
            }
        }
    }

    [Theory]
    [InlineData("/privacy?lang=en", "fr-FR,fr;q=0.9", "en")]
    [InlineData("/privacy", "en-GB,en;q=0.9", "en")]
    [InlineData("/privacy", null, "fr")]
    [InlineData("/privacy?lang=fr", "en", "fr")]
    public async Task Language_QueryWinsOverTheBrowser_FrenchByDefault(string path, string? acceptLanguage, string expected)
    {
        var (_, html) = await GetAsync(path, acceptLanguage);

        Attribute(html, "html", "lang").ShouldBe(expected);
        Text(html, "privacy-withdraw-link").ShouldBe(expected == "fr" ? "Mes autorisations" : "My authorisations");
    }

    [Theory]
    [InlineData("%3Cscript%3Ealert(1)%3C%2Fscript%3E", "<script>alert(1)</script>")]
    [InlineData("en%22%3E%3Cb%3E", "en\"><b>")]
    [InlineData("en&lang=fr", null)]
    [InlineData(null, null)]
    public async Task Language_Hostile_GivesTheNormalFrenchPageAndIsNeverReflected(string? query, string? raw)
    {
        // null: a 5000-character value.
        var value = query ?? new string('x', 5000);
        var (response, html) = await GetAsync("/privacy?lang=" + value);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Attribute(html, "html", "lang").ShouldBe("fr");
        Text(html, "controller-name").ShouldBe("Exemple Téléconsultation SAS");
        html.ShouldNotContain(raw ?? value);
    }

    [Fact]
    public async Task Notice_WithoutPolicySet_AnswersAReadable404AndThePagesDoNotLinkIt()
    {
        using var factory = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<PolicySet>();
            // A host that never loads policies: nothing may resolve a policy set at start either.
            foreach (var descriptor in services.Where(d => d.ServiceType == typeof(IHostedService)
                && (d.ImplementationType == typeof(PolicyActivationRecord) || d.ImplementationType?.Name == "PolicyStartupCheck")).ToList())
            {
                services.Remove(descriptor);
            }
        }));
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/privacy");
        var signUp = await (await client.GetAsync("/account/signup")).Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        Text(await response.Content.ReadAsStringAsync(), "privacy-none").ShouldBe(
            "Aucune notice d'information n'est configurée sur ce service. Adressez-vous à la plateforme qui vous a conduit ici.");
        signUp.ShouldNotContain("privacy-notice-link");
    }

    private async Task<(HttpResponseMessage Response, string Html)> GetAsync(string path, string? acceptLanguage = null)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }

        var response = await client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }
}

public sealed class PrivacyNoticeTests_Sqlite(SqliteStores stores) : PrivacyNoticeTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PrivacyNoticeTests_Postgres(PostgresStores stores) : PrivacyNoticeTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
