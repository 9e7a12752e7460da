using System.Text.Json;
using Compliance.Data.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Audit.Trail;

/// <summary>Writes a <see cref="AuditEventTypes.SchemaMigrated"/> row for a store migrated at start-up, naming this node as the actor.</summary>
internal sealed class SchemaMigrationAudit(IServiceScopeFactory scopes, IAuditActor actor) : ISchemaMigrationRecorder
{
    public async Task RecordStartupMigrationAsync(string store, int fromVersion, int toVersion, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditEventTypes.SchemaMigrated, actor.Name, null, Details(store, fromVersion, toVersion, "start-up"), cancellationToken);
    }

    /// <summary>The details of a <c>schema.migrated</c> row: store, versions and what triggered it (<c>start-up</c> or <c>migrate</c>).</summary>
    public static string Details(string store, int fromVersion, int toVersion, string trigger) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["store"] = store, ["from"] = fromVersion, ["to"] = toVersion, ["trigger"] = trigger });
}
