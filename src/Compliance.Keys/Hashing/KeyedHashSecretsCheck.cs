using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Keys.Hashing;

/// <summary>
/// At start-up: every keyed-hash secret the audit trail says was created must still be in the store, or the node
/// refuses to start (a new secret would silently change every pairwise subject). A secret stored before its creation
/// was audited is recorded now, so that from then on it is guarded too.
/// </summary>
internal static class KeyedHashSecretsCheck
{
    public static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComplianceDbContext>();
        var stored = await db.Set<KeyedHashSecret>().AsNoTracking().Select(s => s.Purpose).ToListAsync(cancellationToken);
        var created = await db.Set<AuditEvent>().AsNoTracking()
            .Where(e => e.EventId == AuditEventTypes.KeyedHashSecretCreated.Id && e.Details != null)
            .Select(e => e.Details!)
            .ToListAsync(cancellationToken);
        var recorded = created.Select(Purpose).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (recorded.FirstOrDefault(p => !stored.Contains(p, StringComparer.Ordinal)) is { } missing)
        {
            throw new KeyCustodyException(KeyedHash.MissingSecretProblem(missing));
        }

        var unrecorded = stored.Where(p => !recorded.Contains(p)).ToList();
        if (unrecorded.Count > 0)
        {
            var trail = services.GetRequiredService<IAuditTrail>();
            var actor = services.GetRequiredService<IAuditActor>().Name;
            unrecorded.ForEach(purpose => trail.Append(AuditEventTypes.KeyedHashSecretCreated, actor, null, KeyedHash.CreationDetails(purpose)));
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static string? Purpose(string details)
    {
        try
        {
            return JsonDocument.Parse(details).RootElement.TryGetProperty("purpose", out var purpose) ? purpose.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
