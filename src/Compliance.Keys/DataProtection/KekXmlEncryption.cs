using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.DataProtection;

/// <summary>
/// Wraps each Data Protection key's secret with the key-encryption key before it is stored, so that a copy of the
/// database alone cannot forge a session cookie. Data Protection's interfaces are synchronous; wrapping is rare.
/// </summary>
internal sealed class KekXmlEncryptor(IKeyEncryptionKey kek) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var wrapped = kek.WrapAsync(plaintext, CancellationToken.None).GetAwaiter().GetResult();
        var element = new XElement("kekWrapped",
            new XAttribute("keyId", wrapped.KeyId),
            new XAttribute("algorithm", wrapped.Algorithm),
            Convert.ToBase64String(wrapped.Ciphertext));
        return new EncryptedXmlInfo(element, typeof(KekXmlDecryptor));
    }
}

/// <summary>Unwraps what <see cref="KekXmlEncryptor"/> wrapped; activated by Data Protection with the service provider.</summary>
internal sealed class KekXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var kek = services.GetRequiredService<IKeyEncryptionKey>();
        var wrapped = new WrappedKey(
            (string?)encryptedElement.Attribute("keyId") ?? throw new KeyCustodyException("A stored Data Protection key names no key-encryption key."),
            (string?)encryptedElement.Attribute("algorithm") ?? "",
            Convert.FromBase64String(encryptedElement.Value));
        var plaintext = kek.UnwrapAsync(wrapped, CancellationToken.None).GetAwaiter().GetResult();
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
