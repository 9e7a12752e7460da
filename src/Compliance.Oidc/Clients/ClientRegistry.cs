using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Compliance.Oidc.Clients;

/// <summary>
/// Looks clients up for the protocol endpoints. A short in-memory cache spares the database on every token request;
/// a removed or changed client is seen by every node within <see cref="CacheFor"/>.
/// </summary>
internal sealed class ClientRegistry(ComplianceDbContext db, IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    public async ValueTask<Client?> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        if (clientId.Length > 100)
        {
            return null;
        }

        var key = ("oidc-client", clientId);
        if (cache.TryGetValue(key, out Client? cached))
        {
            return cached;
        }

        // Unknown ids are not cached: a flood of random ids must not grow the cache (the rate limits bound the queries).
        var client = await db.Set<Client>().AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId, cancellationToken);
        if (client is not null)
        {
            cache.Set(key, client, CacheFor);
        }

        return client;
    }
}
