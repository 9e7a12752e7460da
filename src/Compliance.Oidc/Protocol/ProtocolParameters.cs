using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Compliance.Oidc.Protocol;

/// <summary>
/// The parameters of one protocol request, read defensively: each name at most once (RFC 6749 §3.1), bounded sizes,
/// valid UTF-8 only, no control characters. Anything else is an <c>invalid_request</c>, never a 500.
/// </summary>
public sealed class ProtocolParameters
{
    public const int MaxParameters = 40;
    public const int MaxValueLength = 4096;
    public const int MaxAssertionLength = 16_384;

    private static readonly FrozenSet<string> LongValues = FrozenSet.ToFrozenSet(["client_assertion", "id_token_hint", "token", "request"], StringComparer.Ordinal);

    private readonly Dictionary<string, string> _values;

    private ProtocolParameters(Dictionary<string, string> values) => _values = values;

    public string? this[string name] => _values.TryGetValue(name, out var value) ? value : null;

    public IReadOnlyDictionary<string, string> All => _values;

    public static ProtocolParameters FromPairs(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in pairs)
        {
            if (value.Count > 1)
            {
                throw new OAuthException(OAuthErrors.InvalidRequest, $"The parameter '{Printable(name)}' is repeated.");
            }

            if (values.Count >= MaxParameters)
            {
                throw new OAuthException(OAuthErrors.InvalidRequest, "Too many parameters.");
            }

            var text = value.ToString();
            if (name.Length > 64 || !IsClean(name))
            {
                throw new OAuthException(OAuthErrors.InvalidRequest, "A parameter name is malformed.");
            }

            if (text.Length > (LongValues.Contains(name) ? MaxAssertionLength : MaxValueLength))
            {
                throw new OAuthException(OAuthErrors.InvalidRequest, $"The parameter '{name}' is too long.");
            }

            if (!IsClean(text))
            {
                throw new OAuthException(OAuthErrors.InvalidRequest, $"The parameter '{name}' is not valid UTF-8 text.");
            }

            // An empty parameter is treated as omitted (RFC 6749 §3.1).
            if (text.Length > 0)
            {
                values[name] = text;
            }
        }

        return new ProtocolParameters(values);
    }

    /// <summary>Reads the query (GET) or the form body (POST, <c>application/x-www-form-urlencoded</c> only).</summary>
    public static async Task<ProtocolParameters> ReadAsync(HttpRequest request, bool allowQuery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsGet(request.Method))
        {
            return allowQuery
                ? FromPairs(request.Query)
                : throw new OAuthException(OAuthErrors.InvalidRequest, "Use POST.");
        }

        if (!request.HasFormContentType || request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            throw new OAuthException(OAuthErrors.InvalidRequest, "The body must be application/x-www-form-urlencoded.");
        }

        try
        {
            var form = await request.ReadFormAsync(cancellationToken);
            return FromPairs(form);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException or FormatException)
        {
            throw new OAuthException(OAuthErrors.InvalidRequest, "The form body is malformed or too large.");
        }
    }

    /// <summary>The space-separated values of a parameter, such as <c>scope</c> or <c>prompt</c>.</summary>
    public IReadOnlyList<string> List(string name) =>
        this[name]?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    // U+FFFD is what a malformed percent-encoded UTF-8 sequence decodes to; lone surrogates and control characters
    // have no business in protocol parameters either.
    private static bool IsClean(string text)
    {
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out var rune, out var consumed) != OperationStatus.Done
                || rune.Value == 0xFFFD
                || Rune.IsControl(rune))
            {
                return false;
            }

            span = span[consumed..];
        }

        return true;
    }

    private static string Printable(string name) => name.Length <= 32 && IsClean(name) ? name : "(malformed)";
}
