using System.Net;
using System.Text.RegularExpressions;

namespace Compliance.Server.Tests;

/// <summary>
/// What a patient reads on a page, found in the parsed elements by id rather than as substrings of the HTML, so
/// that an assertion fails when the sentence moves to the wrong place or loses its words.
/// </summary>
internal static partial class PageElements
{
    /// <summary>The opening tag of the element with this id.</summary>
    public static string Tag(string html, string id)
    {
        var match = Regex.Match(html, $"<[a-zA-Z0-9]+\\b[^>]*\\sid=\"{Regex.Escape(id)}\"[^>]*>");
        match.Success.ShouldBeTrue($"no element #{id}");
        return match.Value;
    }

    /// <summary>An attribute of the element with this id (<c>#id</c>), or of the first element of this tag name.</summary>
    public static string Attribute(string html, string selector, string name)
    {
        var tag = selector.StartsWith('#') ? Tag(html, selector[1..]) : Regex.Match(html, $"<{selector}\\b[^>]*>").Value;
        return WebUtility.HtmlDecode(Regex.Match(tag, $"\\s{name}=\"([^\"]*)\"").Groups[1].Value);
    }

    /// <summary>The text of the element with this id: its tags removed, its entities decoded, its spaces collapsed.</summary>
    public static string Text(string html, string id)
    {
        var match = Regex.Match(html, $"<(?<tag>[a-zA-Z0-9]+)\\b[^>]*\\sid=\"{Regex.Escape(id)}\"[^>]*>(?<inner>.*?)</\\k<tag>>", RegexOptions.Singleline);
        match.Success.ShouldBeTrue($"no element #{id}");
        var text = Regex.Replace(match.Groups["inner"].Value, "<[^>]+>", " ");
        return Spaces().Replace(WebUtility.HtmlDecode(text), " ").Trim();
    }

    /// <summary>The page's heading, as the patient reads it.</summary>
    public static string Heading(string html)
    {
        var match = Regex.Match(html, "<h1>(.*?)</h1>", RegexOptions.Singleline);
        match.Success.ShouldBeTrue("no <h1>");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
