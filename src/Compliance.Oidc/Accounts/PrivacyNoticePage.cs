using System.Text;
using Compliance.Oidc.Ui;
using Compliance.Policies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// The full privacy notice (GDPR Art. 13), built from the policy set in force: whatever the register, purposes and
/// retention files say is what the patient reads, so the notice cannot drift from the rules the jobs apply. The
/// fixed parts (rights, withdrawal, complaint) come from <see cref="UiText"/>.
/// </summary>
internal static class PrivacyNoticePage
{
    public const string Path = "/privacy";

    // The CNIL's own complaint form: fixed by French law, not by the controller's policy files.
    public const string CnilComplaintUrl = "https://www.cnil.fr/fr/plaintes";

    // Art. 15 to 21, in the order of the articles; each has its sentence "privacy.right.{name}".
    private static readonly string[] Rights = ["access", "rectification", "erasure", "restriction", "portability", "objection"];

    public static void MapPrivacyNoticePage(this IEndpointRouteBuilder routes) =>
        routes.MapGet(Path, ShowAsync).ExcludeFromDescription();

    /// <summary>The link to the notice in <paramref name="language"/>, or "" when no policy set is loaded (there is no notice to show).</summary>
    public static string Link(HttpContext context, string language)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.RequestServices.GetService<PolicySet>() is null ? ""
            : $"<p class=\"hint\"><a id=\"privacy-notice-link\" href=\"{Path}?lang={language}\">{Html.E(UiText.Get("privacy.link", language))}</a></p>";
    }

    private static async Task<IResult> ShowAsync(HttpContext context, string? lang)
    {
        // ?lang= is what the links of the other pages carry; anything but fr or en (a repeated lang arrives as "en,fr")
        // is ignored, never echoed.
        var language = lang is UiLanguage.French or UiLanguage.English ? lang : UiLanguage.From(context.Request);
        var nav = await PatientNav.RenderAsync(context, language);
        var policies = context.RequestServices.GetService<PolicySet>();
        if (policies is null)
        {
            return Html.Page(context, language, UiText.Get("privacy.title", language),
                $"<p id=\"privacy-none\">{Html.E(UiText.Get("privacy.none", language))}</p>", StatusCodes.Status404NotFound, nav: nav);
        }

        var body = new StringBuilder();
        body.Append("<p id=\"privacy-intro\">").Append(Html.E(UiText.Get("privacy.intro", language))).Append("</p>");
        AppendController(body, policies.Controller, language);
        body.Append("<section id=\"privacy-processing\"><h2>").Append(Html.E(UiText.Get("privacy.processing", language))).Append("</h2>");
        foreach (var entry in policies.Register)
        {
            AppendEntry(body, entry, language);
        }

        body.Append("</section>");
        AppendRights(body, policies.Controller, language);
        body.Append("<p class=\"hint\" id=\"privacy-version\">").Append(Html.E(UiText.Get("privacy.version", language)))
            .Append(" <code class=\"fingerprint\" id=\"privacy-fingerprint\">").Append(Html.E(policies.Fingerprint)).Append("</code></p>");
        return Html.Page(context, language, UiText.Get("privacy.title", language), body.ToString(), nav: nav);
    }

    // Art. 13(1)(a) and (b): who is responsible, and how to reach them and their DPO.
    private static void AppendController(StringBuilder body, Controller controller, string language)
    {
        body.Append("<section id=\"privacy-controller\"><h2>").Append(Html.E(UiText.Get("privacy.controller", language))).Append("</h2>")
            .Append("<p id=\"controller-name\"><strong>").Append(Html.E(controller.Name)).Append("</strong></p>")
            .Append("<p id=\"controller-address\">").Append(Html.E(UiText.Get("privacy.address", language))).Append(' ').Append(Html.E(controller.Address)).Append("</p>")
            .Append("<p id=\"controller-contact\">").Append(Html.E(UiText.Get("privacy.contact", language))).Append(' ')
            .Append(Html.Contact(controller.Contact, "controller-contact-link")).Append("</p>");
        if (!string.IsNullOrWhiteSpace(controller.Representative))
        {
            body.Append("<p id=\"controller-representative\">").Append(Html.E(UiText.Get("privacy.representative", language))).Append(' ')
                .Append(Html.E(controller.Representative)).Append("</p>");
        }

        body.Append("<p id=\"controller-dpo\">").Append(Html.E(UiText.Get("privacy.dpo", language))).Append(' ')
            .Append(Html.Contact(controller.DataProtectionOfficer.Contact, "dpo-contact")).Append("</p></section>");
    }

    // Art. 13(1)(c) to (f) and 13(2)(a), one processing activity of the register at a time.
    private static void AppendEntry(StringBuilder body, RegisterEntry entry, string language)
    {
        var id = Html.E(entry.Id);
        body.Append("<section class=\"processing\" id=\"entry-").Append(id).Append("\"><h3 id=\"entry-").Append(id).Append("-name\">")
            .Append(Html.E(entry.Name.In(language))).Append("</h3>");

        body.Append("<h4>").Append(Html.E(UiText.Get("privacy.purposes", language))).Append("</h4><ul id=\"entry-").Append(id).Append("-purposes\">");
        foreach (var purpose in entry.Purposes)
        {
            var purposeId = id + "-" + Html.E(purpose.Id);
            var basis = UiText.Has("legal_basis." + purpose.LegalBasis.Id) ? UiText.Get("legal_basis." + purpose.LegalBasis.Id, language) : purpose.LegalBasis.Id;
            var articles = string.Join(UiText.Get("privacy.and", language), purpose.LegalBasis.Articles);
            body.Append("<li id=\"purpose-").Append(purposeId).Append("\"><strong id=\"purpose-").Append(purposeId).Append("-name\">")
                .Append(Html.E(purpose.Name.In(language))).Append("</strong>").Append(Html.E(UiText.Get("privacy.colon", language)))
                .Append("<span id=\"purpose-").Append(purposeId).Append("-description\">").Append(Html.E(purpose.Description.In(language))).Append("</span> ")
                .Append("<span id=\"legal-basis-").Append(purposeId).Append("\">").Append(Html.E(UiText.Get("privacy.legal_basis", language, basis, articles))).Append("</span></li>");
        }

        body.Append("</ul><h4>").Append(Html.E(UiText.Get("privacy.categories", language))).Append("</h4><ul id=\"entry-").Append(id).Append("-categories\">");
        foreach (var category in entry.DataCategories)
        {
            body.Append("<li>").Append(Html.E(category.Name.In(language))).Append("</li>");
        }

        body.Append("</ul><h4>").Append(Html.E(UiText.Get("privacy.recipients", language))).Append("</h4><ul id=\"entry-").Append(id).Append("-recipients\">");
        foreach (var recipient in entry.Recipients)
        {
            body.Append("<li id=\"recipient-").Append(id).Append('-').Append(Html.E(recipient.Id)).Append("\">").Append(Html.E(recipient.Name.In(language))).Append("</li>");
        }

        body.Append("</ul><h4>").Append(Html.E(UiText.Get("privacy.transfers", language))).Append("</h4>");
        if (entry.Transfers.Count == 0)
        {
            body.Append("<p id=\"entry-").Append(id).Append("-transfers\">").Append(Html.E(UiText.Get("privacy.transfers.none", language))).Append("</p>");
        }
        else
        {
            body.Append("<ul id=\"entry-").Append(id).Append("-transfers\">");
            foreach (var transfer in entry.Transfers)
            {
                var safeguard = UiText.Get("transfer." + transfer.Safeguard.ToId(), language);
                body.Append("<li>").Append(Html.E(UiText.Get("privacy.transfer", language, transfer.Recipient.Name.In(language), transfer.Country, safeguard))).Append("</li>");
            }

            body.Append("</ul>");
        }

        body.Append("<h4>").Append(Html.E(UiText.Get("privacy.retention", language))).Append("</h4><ul id=\"entry-").Append(id).Append("-retention\">");
        foreach (var rule in entry.ErasureTimeLimits)
        {
            body.Append("<li id=\"retention-").Append(id).Append('-').Append(Html.E(rule.Id)).Append("\">").Append(Html.E(RetentionSentence(rule, language))).Append("</li>");
        }

        body.Append("</ul></section>");
    }

    /// <summary>"Identifiants de connexion : 2 ans après votre dernière activité sur le compte." from the rule's period and trigger.</summary>
    internal static string RetentionSentence(RetentionRule rule, string language)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var category = rule.DataCategory.Name.In(language);
        var sentence = new StringBuilder(rule.Period.IsZero
            ? UiText.Get("retention.rule.zero", language, category, Trigger(rule.Trigger, language))
            : UiText.Get("retention.rule", language, category, UiText.Period(rule.Period, language), Trigger(rule.Trigger, language)));
        foreach (var extension in rule.NotBefore)
        {
            // "At least until 28 years after birth" reads as an age.
            sentence.Append(extension.Trigger == RetentionTrigger.Birth && extension.Period is { Months: 0, Weeks: 0, Days: 0, Years: > 0 }
                ? UiText.Get("retention.not_before.age", language, extension.Period.Years)
                : UiText.Get("retention.not_before", language, UiText.Period(extension.Period, language), Trigger(extension.Trigger, language)));
        }

        if (rule.AfterDeath is { } afterDeath)
        {
            sentence.Append(UiText.Get("retention.after_death", language, UiText.Period(afterDeath, language)));
        }

        return sentence.Append('.').ToString();
    }

    private static string Trigger(RetentionTrigger trigger, string language) => UiText.Get("retention.trigger." + trigger.ToId(), language);

    // Art. 13(2)(b) to (f): the rights, withdrawal, complaint, whether data are required, automated decisions.
    private static void AppendRights(StringBuilder body, Controller controller, string language)
    {
        body.Append("<section id=\"privacy-rights\"><h2>").Append(Html.E(UiText.Get("privacy.rights", language))).Append("</h2>")
            .Append("<p>").Append(Html.E(UiText.Get("privacy.rights.intro", language))).Append("</p><ul>");
        foreach (var right in Rights)
        {
            body.Append("<li id=\"right-").Append(right).Append("\">").Append(Html.E(UiText.Get("privacy.right." + right, language))).Append("</li>");
        }

        body.Append("</ul><p id=\"privacy-exercise\">").Append(Html.E(UiText.Get("privacy.exercise", language))).Append(' ')
            .Append(Html.Contact(controller.DataProtectionOfficer.Contact, "exercise-dpo-contact")).Append("</p>")
            .Append("<p id=\"privacy-withdraw\">").Append(Html.E(UiText.Get("privacy.withdraw", language)))
            .Append(" <a id=\"privacy-withdraw-link\" href=\"").Append(AccountEndpoints.SignedInPath).Append("\">")
            .Append(Html.E(UiText.Get("authorizations.title", language))).Append("</a></p>")
            .Append("<p id=\"privacy-complaint\">").Append(Html.E(UiText.Get("privacy.complaint", language)))
            .Append(" <a id=\"cnil-link\" href=\"").Append(CnilComplaintUrl).Append("\">").Append(Html.E(UiText.Get("privacy.complaint.link", language))).Append("</a></p>")
            .Append("<p id=\"privacy-requirement\">").Append(Html.E(UiText.Get("privacy.requirement", language))).Append("</p>")
            .Append("<p id=\"privacy-automated\">").Append(Html.E(UiText.Get("privacy.automated", language))).Append("</p></section>");
    }
}
