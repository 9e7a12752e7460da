using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.DataProtection;

/// <summary>
/// Keeps the Data Protection key ring in the compliance store, so that a cookie or an interaction token protected by
/// one node is readable by every other node. The interface is synchronous; it is called when the ring is refreshed.
/// </summary>
internal sealed class StoreXmlRepository(IServiceScopeFactory scopes, TimeProvider time) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        return [.. db.Set<DataProtectionKey>().OrderBy(k => k.Id).Select(k => k.Xml).AsEnumerable().Select(XElement.Parse)];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
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
