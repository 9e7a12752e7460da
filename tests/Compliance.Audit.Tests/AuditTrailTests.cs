using Compliance.Audit.Trail;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Audit.Tests;

public abstract class AuditTrailTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly ServiceProvider _services = StoreServices.Build(stores, s => s.AddComplianceAudit().AddComplianceAudit());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task Record_ThenFindLatest_ReturnsTheNewestOfThatType()
    {
        var subject = Guid.CreateVersion7();
        await using (var scope = _services.CreateAsyncScope())
        {
            var trail = scope.ServiceProvider.GetRequiredService<IAuditTrail>();
            await trail.RecordAsync(AuditEventTypes.PolicySetActivated, "system", null, """{"fingerprint":"a"}""", CancellationToken.None);
            await trail.RecordAsync(AuditEventTypes.SchemaMigrated, "cli", subject, null, CancellationToken.None);
            await trail.RecordAsync(AuditEventTypes.PolicySetActivated, "system", null, """{"fingerprint":"b"}""", CancellationToken.None);
        }

        await using var read = _services.CreateAsyncScope();
        var latest = await read.ServiceProvider.GetRequiredService<IAuditTrail>().FindLatestAsync(AuditEventTypes.PolicySetActivated, CancellationToken.None);

        latest.ShouldNotBeNull();
        latest.Details.ShouldBe("""{"fingerprint":"b"}""");
        latest.Name.ShouldBe("policies.activated");
        latest.OccurredAt.ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public void Catalogue_Ids_AreUniqueAndStable()
    {
        AuditEventTypes.All.Select(t => t.Id).ShouldBeUnique();
        AuditEventTypes.All.Select(t => t.Name).ShouldBeUnique();
        AuditEventTypes.SchemaMigrated.Id.ShouldBe(1000);
        AuditEventTypes.PolicySetActivated.Id.ShouldBe(1001);
    }
}

public sealed class AuditTrailTests_Sqlite(SqliteStores stores) : AuditTrailTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class AuditTrailTests_Postgres(PostgresStores stores) : AuditTrailTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
