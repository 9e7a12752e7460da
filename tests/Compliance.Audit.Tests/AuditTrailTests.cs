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
        AuditEventTypes.SigningKeyCreated.Id.ShouldBe(1002);
        AuditEventTypes.SigningKeysPurged.Id.ShouldBe(1003);
        AuditEventTypes.ClientRegistered.Id.ShouldBe(2000);
        AuditEventTypes.ClientUpdated.Id.ShouldBe(2001);
        AuditEventTypes.ClientSecretRotated.Id.ShouldBe(2002);
        AuditEventTypes.ClientRemoved.Id.ShouldBe(2003);
        AuditEventTypes.ConsentGiven.Id.ShouldBe(4000);
        AuditEventTypes.ConsentRefused.Id.ShouldBe(4001);
        AuditEventTypes.ConsentWithdrawn.Id.ShouldBe(4002);
    }

    [Fact]
    public void Catalogue_EveryId_IsListedInTheReadmeForTheDpo()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Compliance.sln")))
        {
            directory = directory.Parent;
        }

        var readme = File.ReadAllText(Path.Combine(directory.ShouldNotBeNull().FullName, "README.md"));
        var section = readme[readme.IndexOf("## Audit events", StringComparison.Ordinal)..readme.IndexOf("## Configuration reference", StringComparison.Ordinal)];
        foreach (var type in AuditEventTypes.All)
        {
            section.ShouldContain($"| {type.Id} | `{type.Name}` |");
        }
    }

    [Theory]
    [InlineData("dpo.alice@ops", true)]
    [InlineData("a", true)]
    [InlineData("", false)]
    [InlineData("Jean Dupont", false)]
    [InlineData("ops\nforged", false)]
    public void OperatorName_OnlyAnAccountName_IsAccepted(string name, bool accepted)
    {
        AuditActor.IsValidOperatorName(name).ShouldBe(accepted);
        if (accepted)
        {
            AuditActor.Operator(name).Name.ShouldBe("operator:" + name);
        }
        else
        {
            Should.Throw<ArgumentException>(() => AuditActor.Operator(name));
        }
    }

    [Fact]
    public void ServerActor_NamesThisMachine()
    {
        AuditActor.Server().Name.ShouldMatch("^server:[A-Za-z0-9._@-]{1,64}$");
    }
}

public sealed class AuditTrailTests_Sqlite(SqliteStores stores) : AuditTrailTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class AuditTrailTests_Postgres(PostgresStores stores) : AuditTrailTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
