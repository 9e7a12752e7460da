using System.Xml.Linq;
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
        db.SaveChanges();
    }
}
