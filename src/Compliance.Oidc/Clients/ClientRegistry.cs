using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Compliance.Oidc.Clients;

/// <summary>
/// Looks clients up for the protocol endpoints; a removed client is absent. A short in-memory cache spares the database
/// on every token request. Removing a client evicts it from the cache of the node that removed it, so it stops working
/// there at once; other nodes (and the server, when the CLI removed it) see it gone within <see cref="CacheFor"/>. In the
/// meantime its tokens are already revoked in the database, so the token, userinfo and introspection endpoints refuse them.
/// </summary>
internal sealed class ClientRegistry(ComplianceDbContext db, IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    public static object CacheKey(string clientId) => ("oidc-client", clientId);

    public async ValueTask<Client?> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        if (clientId.Length > 100)
        {
            return null;
        }

        var key = CacheKey(clientId);
        if (cache.TryGetValue(key, out Client? cached))
        {
            return cached;
        }

        // Unknown ids are not cached: a flood of random ids must not grow the cache (the rate limits bound the queries).
        var client = await db.Set<Client>().AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId && c.RemovedAt == null, cancellationToken);
        if (client is not null)
        {
            cache.Set(key, client, CacheFor);
        }

        return client;
    }
}
