using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Compliance.Oidc.Ui;

/// <summary>
/// French first (the service is for French platforms), English on request: the partner's <c>ui_locales</c> when the
/// page belongs to an authorization request, otherwise the browser's <c>Accept-Language</c>.
/// </summary>
internal static class UiLanguage
{
    public const string French = "fr";
    public const string English = "en";

    /// <summary>The page's language: <paramref name="uiLocale"/> (already chosen from <c>ui_locales</c>) wins over <c>Accept-Language</c>.</summary>
    public static string From(HttpRequest request, string? uiLocale = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (uiLocale is French or English)
        {
            return uiLocale;
        }

        if (!StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptLanguage, out var languages))
        {
            return French;
        }

        foreach (var language in languages.OrderByDescending(l => l.Quality ?? 1))
        {
            if (Supported(language.Value.Value) is { } supported)
            {
                return supported;
            }
        }

        return French;
    }

    /// <summary>The first supported language of an OpenID Connect <c>ui_locales</c> value (space-separated BCP 47 tags), or null.</summary>
    public static string? FromUiLocales(string? uiLocales)
    {
        if (uiLocales is null or { Length: > 256 })
        {
            return null;
        }

        foreach (var tag in uiLocales.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Supported(tag) is { } supported)
            {
                return supported;
            }
        }

        return null;
    }

    private static string? Supported(string? tag) =>
        tag is null ? null
        : tag.Equals(French, StringComparison.OrdinalIgnoreCase) || tag.StartsWith(French + "-", StringComparison.OrdinalIgnoreCase) ? French
        : tag.Equals(English, StringComparison.OrdinalIgnoreCase) || tag.StartsWith(English + "-", StringComparison.OrdinalIgnoreCase) ? English
        : null;
}
