using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Compliance.Oidc.Ui;

/// <summary>French first (the service is for French platforms), English on request through <c>Accept-Language</c>.</summary>
internal static class UiLanguage
{
    public const string French = "fr";
    public const string English = "en";

    public static string From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptLanguage, out var languages))
        {
            return French;
        }

        foreach (var language in languages.OrderByDescending(l => l.Quality ?? 1))
        {
            var tag = language.Value.Value ?? "";
            if (tag.StartsWith(French, StringComparison.OrdinalIgnoreCase))
            {
                return French;
            }

            if (tag.StartsWith(English, StringComparison.OrdinalIgnoreCase))
            {
                return English;
            }
        }

        return French;
    }
}
