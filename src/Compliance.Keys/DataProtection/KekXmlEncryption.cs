using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Compliance.Keys.Encryption;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.DataProtection;

/// <summary>
/// Wraps each Data Protection key's secret with the key-encryption key before it is stored, so that a copy of the
/// database alone cannot forge a session cookie. Data Protection's interfaces are synchronous; wrapping is rare.
/// </summary>
/// <remarks>
/// Data Protection hands the encryptor the secret alone, not the key it belongs to, so the secret is first sealed as
/// pending; <see cref="StoreXmlRepository"/> then binds it to its key (id and dates) before the key is stored, as the
/// other wrapped keys are bound to their rows (<see cref="KekXml"/>).
/// </remarks>
internal sealed class KekXmlEncryptor(IKeyEncryptionKey kek) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var sealedBytes = KeyEnvelope.Seal(KekXml.PendingLabel, plaintext);
        try
        {
            var wrapped = kek.WrapAsync(sealedBytes, CancellationToken.None).GetAwaiter().GetResult();
            return new EncryptedXmlInfo(KekXml.Element(wrapped, boundTo: null), typeof(KekXmlDecryptor));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(sealedBytes);
        }
    }
}

/// <summary>Unwraps what <see cref="KekXmlEncryptor"/> wrapped and the repository bound; activated by Data Protection with the service provider.</summary>
internal sealed class KekXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var boundTo = (string?)encryptedElement.Attribute(KekXml.BoundToAttribute);
        if (string.IsNullOrEmpty(boundTo))
        {
            throw new KeyCustodyException("A stored Data Protection key is not bound to its record; it was not stored by this service.");
        }

        var kek = services.GetRequiredService<IKeyEncryptionKey>();
        var sealedBytes = kek.UnwrapAsync(KekXml.Read(encryptedElement), CancellationToken.None).GetAwaiter().GetResult();
        var plaintext = KeyEnvelope.Open(sealedBytes, KekXml.Label(boundTo), "Data Protection key");
        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>
/// The stored form of a wrapped Data Protection secret: <c>&lt;kekWrapped keyId algorithm boundTo&gt;base64&lt;/kekWrapped&gt;</c>.
/// <c>boundTo</c> names the key (<c>id|creation|activation|expiration</c>), and the secret is sealed to that name
/// before it is wrapped: a secret moved to another key, or a key whose dates were edited in the store, fails to open.
/// </summary>
internal static class KekXml
{
    public const string ElementName = "kekWrapped";
    public const string BoundToAttribute = "boundTo";
    public const string PendingLabel = "compliance-data-protection|pending";

    public static string Label(string boundTo) => $"compliance-data-protection|{boundTo}";

    public static XElement Element(WrappedKey wrapped, string? boundTo)
    {
        var element = new XElement(ElementName,
            new XAttribute("keyId", wrapped.KeyId),
            new XAttribute("algorithm", wrapped.Algorithm),
            Convert.ToBase64String(wrapped.Ciphertext));
        if (boundTo is not null)
        {
            element.SetAttributeValue(BoundToAttribute, boundTo);
        }

        return element;
    }

    public static WrappedKey Read(XElement element)
    {
        var keyId = (string?)element.Attribute("keyId");
        if (string.IsNullOrEmpty(keyId))
        {
            throw new KeyCustodyException("A stored Data Protection key names no key-encryption key.");
        }

        try
        {
            return new WrappedKey(keyId, (string?)element.Attribute("algorithm") ?? "", Convert.FromBase64String(element.Value));
        }
        catch (FormatException)
        {
            throw new KeyCustodyException("A stored Data Protection key's wrapped secret is not base64: it was altered.");
        }
    }

    /// <summary>What a key element's secrets must be bound to: its id and dates, as Data Protection wrote them.</summary>
    public static string? BindingOf(XElement key) =>
        key.Name.LocalName == "key" && (string?)key.Attribute("id") is { Length: > 0 } id
            ? $"{id}|{key.Element("creationDate")?.Value}|{key.Element("activationDate")?.Value}|{key.Element("expirationDate")?.Value}"
            : null;

    /// <summary>The KEK ids of the wrapped secrets in a stored element; none for an element that cannot be parsed.</summary>
    public static IEnumerable<string> WrappedKeyIds(string xml)
    {
        XElement root;
        try
        {
            root = XElement.Parse(xml);
        }
        catch (XmlException)
        {
            return [];
        }

        return [.. root.DescendantsAndSelf(ElementName).Select(e => (string?)e.Attribute("keyId")).OfType<string>()];
    }
}
