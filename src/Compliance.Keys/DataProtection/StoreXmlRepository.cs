using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Keys.Encryption;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.DataProtection;

/// <summary>
/// Keeps the Data Protection key ring in the compliance store, so that a cookie or an interaction token protected by
/// one node is readable by every other node. The interface is synchronous; it is called when the ring is refreshed.
/// </summary>
internal sealed class StoreXmlRepository(IServiceScopeFactory scopes, IKeyEncryptionKey kek, TimeProvider time, ILogger logger) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var elements = db.Set<DataProtectionKey>().OrderBy(k => k.Id).Select(k => k.Xml).AsEnumerable().Select(XElement.Parse);

        // A key whose secret is bound to another key, or whose dates no longer match its binding, is left out: Data
        // Protection then never uses it (its cookies stop opening), and makes a new key if none is left.
        return [.. elements.Where(element =>
        {
            var binding = KekXml.BindingOf(element);
            var bound = element.Descendants(KekXml.ElementName).All(w => binding is not null && (string?)w.Attribute(KekXml.BoundToAttribute) == binding);
            if (!bound)
            {
                KeysLog.DataProtectionKeyUnbound(logger, (string?)element.Attribute("id") ?? "?");
            }

            return bound;
        })];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        Bind(element);
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        db.Add(new DataProtectionKey
        {
            FriendlyName = friendlyName.Length <= 100 ? friendlyName : friendlyName[..100],
            Xml = element.ToString(SaveOptions.DisableFormatting),
            CreatedAt = time.GetUtcNow(),
        });
        if (Audited(element) is { } details)
        {
            // Saved with the key, or not at all. The key id and dates are no secret; the key itself is never copied.
            var services = scope.ServiceProvider;
            services.GetRequiredService<IAuditTrail>().Append(AuditEventTypes.DataProtectionKeyCreated, services.GetRequiredService<IAuditActor>().Name, null, details);
        }

        db.SaveChanges();
    }

    /// <summary>Re-seals each pending secret of a new key to the key's id and dates (see <see cref="KekXml"/>).</summary>
    private void Bind(XElement element)
    {
        var binding = KekXml.BindingOf(element);
        foreach (var pending in element.Descendants(KekXml.ElementName).Where(w => w.Attribute(KekXml.BoundToAttribute) is null).ToList())
        {
            if (binding is null)
            {
                throw new KeyCustodyException("Data Protection stored a wrapped secret outside a key element; it cannot be bound to a key.");
            }

            var sealedBytes = kek.UnwrapAsync(KekXml.Read(pending), CancellationToken.None).GetAwaiter().GetResult();
            var secret = KeyEnvelope.Open(sealedBytes, KekXml.PendingLabel, "Data Protection key");
            var rebound = KeyEnvelope.Seal(KekXml.Label(binding), secret);
            try
            {
                var wrapped = kek.WrapAsync(rebound, CancellationToken.None).GetAwaiter().GetResult();
                pending.ReplaceWith(KekXml.Element(wrapped, binding));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
                CryptographicOperations.ZeroMemory(rebound);
            }
        }
    }

    /// <summary>The details of a new key's audit row, from its public attributes; null for an element that is not a key.</summary>
    private static string? Audited(XElement element)
    {
        if (element.Name.LocalName != "key" || !Guid.TryParse((string?)element.Attribute("id"), out var id))
        {
            return null;
        }

        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["key_id"] = id.ToString("D"),
            ["activates_at"] = UnixSeconds(element.Element("activationDate")),
            ["expires_at"] = UnixSeconds(element.Element("expirationDate")),
        });
    }

    private static long? UnixSeconds(XElement? date) =>
        DateTimeOffset.TryParse(date?.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value.ToUnixTimeSeconds() : null;
}
