using System.Net;
using System.Text.RegularExpressions;

namespace Compliance.Server.Tests.Oidc;

/// <summary>
/// A patient's browser for in-process and multi-node tests: a cookie jar shared by every server it talks to (as when
/// a load balancer sends one browser to several nodes), no automatic redirects, and the real HTML forms.
/// </summary>
public sealed partial class PatientBrowser : IDisposable
{
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);
    private readonly HttpClient _http;

    public PatientBrowser(HttpMessageHandler handler, Uri baseAddress)
    {
        _http = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress };
    }

    public PatientBrowser(HttpClient http)
    {
        _http = http;
    }

    public IReadOnlyDictionary<string, string> Cookies => _cookies;

    /// <summary>The address the test host sees this browser connect from (see <see cref="TotpPatients"/>), if any.</summary>
    public string? ClientAddress { get; set; }

    /// <summary>The browser's <c>User-Agent</c>, if any.</summary>
    public string? UserAgent { get; set; }

    /// <summary>The <c>Sec-Fetch-Mode</c> the browser sends (<c>cors</c> for a page's own script), if any.</summary>
    public string? FetchMode { get; set; }

    /// <summary>The browser's <c>Accept-Language</c>, if any.</summary>
    public string? Language { get; set; }

    /// <summary>Another browser holding a copy of this one's cookies (a stolen or copied cookie).</summary>
    public void CopyCookiesTo(PatientBrowser other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (name, value) in _cookies)
        {
            other._cookies[name] = value;
        }
    }

    public Task<HttpResponseMessage> GetAsync(string url, Uri? server = null) => SendAsync(HttpMethod.Get, url, null, server);

    public Task<HttpResponseMessage> PostFormAsync(string url, IReadOnlyDictionary<string, string> form, Uri? server = null) =>
        SendAsync(HttpMethod.Post, url, new FormUrlEncodedContent(form), server);

    /// <summary>Posts any body: a form that a browser would not build from the page (a field twice, say).</summary>
    public Task<HttpResponseMessage> PostAsync(string url, HttpContent content, Uri? server = null) => SendAsync(HttpMethod.Post, url, content, server);

    /// <summary>Signs up on the sign-up page (reached with the interaction, if any) and returns the redirect after it.</summary>
    public async Task<HttpResponseMessage> SignUpAsync(string pseudonym, string password, string? interaction = null, Uri? server = null)
    {
        var page = await (await GetAsync("/account/signup" + (interaction is null ? "" : "?interaction=" + Uri.EscapeDataString(interaction)), server)).Content.ReadAsStringAsync();
        return await PostFormAsync("/account/signup", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(page, "__RequestVerificationToken"),
            ["interaction"] = interaction ?? "",
            ["pseudonym"] = pseudonym,
            ["password"] = password,
            ["password_confirm"] = password,
        }, server);
    }

    /// <summary>Signs in on the sign-in page, outside any authorization request, and returns the answer to the password.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string pseudonym, string password, Uri? server = null)
    {
        var page = await (await GetAsync("/account/login", server)).Content.ReadAsStringAsync();
        return await PostFormAsync("/account/login", new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(page, "__RequestVerificationToken"),
            ["pseudonym"] = pseudonym,
            ["password"] = password,
        }, server);
    }

    /// <summary>Follows redirects that stay on the server; returns the last response (a page, or a redirect away).</summary>
    public async Task<HttpResponseMessage> FollowAsync(HttpResponseMessage response, Uri? server = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        for (var hops = 0; hops < 10 && response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther; hops++)
        {
            var location = response.Headers.Location!;
            if (location.IsAbsoluteUri)
            {
                return response;
            }

            response = await GetAsync(location.ToString(), server);
        }

        return response;
    }

    public static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Groups[1].Value);

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content, Uri? server)
    {
        using var request = new HttpRequestMessage(method, server is null ? new Uri(url, UriKind.RelativeOrAbsolute) : new Uri(server, url)) { Content = content };
        if (_cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
        }

        // What a browser sends for a page or a form post.
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        if (Language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(Language);
        }

        if (FetchMode is not null)
        {
            request.Headers.Add("Sec-Fetch-Mode", FetchMode);
        }

        if (ClientAddress is not null)
        {
            request.Headers.Add(TotpPatients.ClientAddressHeader, ClientAddress);
        }

        if (UserAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        }

        var response = await _http.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var header in setCookies)
            {
                var pair = header.Split(';')[0];
                var index = pair.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = (pair[..index], pair[(index + 1)..]);
                if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                {
                    _cookies.Remove(name);
                }
                else
                {
                    _cookies[name] = value;
                }
            }
        }

        return response;
    }
}
