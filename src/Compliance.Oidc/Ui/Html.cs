using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Ui;

/// <summary>
/// Renders the few pages of the sign-in flow as plain, encoded HTML: no scripts, no inline styles (the CSP forbids
/// them), one stylesheet. Every dynamic value goes through <see cref="E"/>.
/// </summary>
internal static class Html
{
    public const string StylesheetPath = "/assets/compliance.css";
    public const string PasskeyScriptPath = "/assets/passkeys.js";

    /// <summary>
    /// The pages' policy: no script at all, our stylesheet only, forms to us (and the partner, see <see cref="Page"/>).
    /// A web partner is allowed by its origin; a native app's private-use scheme (RFC 8252 §7.1, e.g.
    /// <c>com.example.app:/cb</c>) by that scheme alone, since such a URI has no origin.
    /// </summary>
    public static string ContentSecurityPolicy(string? formTarget, string? scriptNonce = null)
    {
        var formAction = "'self'";
        if (formTarget is not null && Uri.TryCreate(formTarget, UriKind.Absolute, out var target))
        {
            if (target.Scheme is "https" or "http")
            {
                formAction += " " + target.GetLeftPart(UriPartial.Authority);
            }
            else if (Clients.ClientAdministration.IsPrivateUseRedirect(formTarget))
            {
                formAction += " " + target.Scheme + ":";
            }
        }

        // The passkey pages run one script of ours, by nonce, and it may only call back to us.
        var scripts = scriptNonce is null ? "script-src 'none'" : $"script-src 'nonce-{scriptNonce}'; connect-src 'self'";
        return $"default-src 'none'; {scripts}; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            + $"base-uri 'none'; frame-ancestors 'none'; form-action {formAction}";
    }

    // Accented French stays readable in the source; the characters that matter to HTML are still encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    public static string E(string? value) => Encoder.Encode(value ?? "");

    /// <summary>
    /// Renders a page. <paramref name="formTarget"/> is the partner's redirect URI when a form of this page ends in a
    /// redirect to it: browsers apply the CSP <c>form-action</c> to the whole redirect chain of a form submission, so
    /// that one origin, and only it, is added to <c>'self'</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="passkeys"/> adds the passkey script (WebAuthn needs one) with a nonce of this response: only the
    /// sign-in, step-up and security pages ask for it; every other page stays script-free.
    /// </remarks>
    public static IResult Page(HttpContext context, string language, string title, string body, int status = 200, string? formTarget = null, string? nav = null,
        string serviceKey = "service", bool passkeys = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var nonce = passkeys ? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) : null;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy(formTarget, nonce);
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"").Append(language).Append("\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">")
            .Append("<title>").Append(E(title)).Append(" · ").Append(E(UiText.Get(serviceKey, language))).Append("</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(StylesheetPath).Append("\"></head><body><main>")
            .Append("<p class=\"service\">").Append(E(UiText.Get(serviceKey, language))).Append("</p>")
            .Append(nav)
            .Append("<h1>").Append(E(title)).Append("</h1>")
            .Append(body)
            .Append(nonce is null ? "" : $"<script nonce=\"{nonce}\" src=\"{PasskeyScriptPath}\" defer></script>")
            .Append("</main></body></html>")
            .ToString();
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A 400 page with one of the <c>error.*</c> sentences; it never echoes the request.</summary>
    public static IResult ErrorPage(HttpContext context, string language, string messageKey, string serviceKey = "service") =>
        Page(context, language, UiText.Get("error.title", language), Alert(UiText.Get(messageKey, language)), StatusCodes.Status400BadRequest, serviceKey: serviceKey);

    /// <summary>
    /// A refusal to wait for (rate limit, lockout): a 429 page in the patient's language that says how long, and the
    /// same delay in <c>Retry-After</c>.
    /// </summary>
    public static IResult TooManyRequests(HttpContext context, string language, TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(context);
        SetRetryAfter(context, retryAfter);
        var message = UiText.Get("error.too_many", language, UiText.Duration(retryAfter, language));
        return Page(context, language, UiText.Get("error.wait_title", language), $"<p class=\"alert\" role=\"alert\" id=\"retry-after\">{E(message)}</p>", StatusCodes.Status429TooManyRequests);
    }

    public static void SetRetryAfter(HttpContext context, TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(context);
        var seconds = (long)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A contact as a link: a <c>mailto:</c> link for an e-mail address, an https link for a web address, else plain text.</summary>
    public static string Contact(string contact, string id)
    {
        ArgumentNullException.ThrowIfNull(contact);
        var href = contact.Contains('@', StringComparison.Ordinal) && !contact.Contains(':', StringComparison.Ordinal) && !contact.Contains(' ', StringComparison.Ordinal)
            ? "mailto:" + contact
            : contact.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? contact : null;
        return href is null ? $"<span id=\"{E(id)}\">{E(contact)}</span>" : $"<a id=\"{E(id)}\" href=\"{E(href)}\">{E(contact)}</a>";
    }

    public static string Antiforgery(IAntiforgery antiforgery, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(antiforgery);
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Hidden(tokens.FormFieldName, tokens.RequestToken);
    }

    public static string Hidden(string name, string? value) => $"<input type=\"hidden\" name=\"{E(name)}\" value=\"{E(value)}\">";

    public static string Alert(string? message) => message is null ? "" : $"<p class=\"alert\" role=\"alert\">{E(message)}</p>";

    public const string Stylesheet = """
        :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
        body { margin: 0; background: #f4f6f8; color: #1b1f23; }
        main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: .75rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
        .service { color: #4a5560; font-size: .9rem; margin: 0 0 .5rem; }
        h1 { font-size: 1.4rem; margin: 0 0 1rem; }
        label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
        input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #9aa5b1; border-radius: .4rem; }
        button { margin-top: 1.25rem; padding: .65rem 1.2rem; font-size: 1rem; border-radius: .4rem; border: 1px solid #1d4ed8; background: #1d4ed8; color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: #1d4ed8; }
        .actions { display: flex; gap: .75rem; flex-wrap: wrap; }
        nav.patient { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; font-size: .9rem; border-bottom: 1px solid #d0d7de; padding-bottom: .5rem; margin-bottom: 1rem; }
        nav.patient p { margin: 0; flex-basis: 100%; }
        nav.patient strong { overflow-wrap: anywhere; }
        a { color: #1d4ed8; }
        .hint { color: #4a5560; font-size: .9rem; margin: .25rem 0 0; }
        .choice { display: flex; gap: .5rem; align-items: flex-start; }
        .choice input { margin-top: .3rem; width: 1.1rem; height: 1.1rem; flex: none; }
        label.inline { display: inline; margin: 0; font-weight: normal; }
        .alert, .passkey-error { background: #fdecea; color: #8a1c1c; padding: .6rem .8rem; border-radius: .4rem; }
        .notice { background: #e8f5e9; color: #1b5e20; padding: .6rem .8rem; border-radius: .4rem; }
        section.authorization { border-top: 1px solid #d0d7de; margin-top: 1rem; }
        h2 { font-size: 1.1rem; margin: 1rem 0 .25rem; }
        ul.scopes li { margin: .5rem 0; }
        ol.notices { list-style: none; padding: 0; margin: 0; }
        ol.notices li { border-top: 1px solid #d0d7de; padding: .25rem 0 .75rem; }
        ol.notices li.notice-unread { border-left: 3px solid #1d4ed8; padding-left: .75rem; }
        table.staff { border-collapse: collapse; width: 100%; font-size: .9rem; }
        table.staff th, table.staff td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #d0d7de; }
        section.processing { border-top: 1px solid #d0d7de; margin-top: 1rem; }
        h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
        h4 { font-size: .95rem; margin: .75rem 0 .25rem; }
        code.fingerprint { overflow-wrap: anywhere; font-size: .8rem; }
        @media (prefers-color-scheme: dark) { body { background: #111418; color: #e6e9ec; } main { background: #1b1f24; } .service, .hint { color: #a9b3bd; } a { color: #8ab4f8; } }
        @media (max-width: 30rem) { main { margin: 0; border-radius: 0; padding: 1.25rem; } }
        """;
}
