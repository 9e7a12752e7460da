using Compliance.Oidc.Subjects;
using Compliance.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Server.Tests.Oidc;

/// <summary>The way back from a sector's <c>sub</c> to the subject, which the rights jobs need, on both providers.</summary>
public abstract class PairwiseSubjectsTests<TStores>(TStores stores) : IDisposable
    where TStores : StoreFixture
{
    private readonly ComplianceFactory _factory = new(stores.Settings);

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task SubjectFor_ManyRequestsAtOnce_OneSubAndItResolvesBackToTheSubject()
    {
        var subject = Guid.CreateVersion7();
        var sector = "sector-" + Guid.NewGuid().ToString("N")[..8] + ".example";

        var subs = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            await using var scope = _factory.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<IPairwiseSubjects>().SubjectForAsync(subject, sector, CancellationToken.None);
        }));

        subs.Distinct().Count().ShouldBe(1);
        await using var resolving = _factory.Services.CreateAsyncScope();
        var subjects = resolving.ServiceProvider.GetRequiredService<IPairwiseSubjects>();
        (await subjects.ResolveAsync(sector, subs[0], CancellationToken.None)).ShouldBe(subject);
        (await subjects.ResolveAsync("other.example", subs[0], CancellationToken.None)).ShouldBeNull("a sub means nothing in another sector");
    }
}

public sealed class PairwiseSubjectsTests_Sqlite(SqliteStores stores) : PairwiseSubjectsTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class PairwiseSubjectsTests_Postgres(PostgresStores stores) : PairwiseSubjectsTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
