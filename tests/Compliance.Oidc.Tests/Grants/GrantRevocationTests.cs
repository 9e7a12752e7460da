using Compliance.Data.Model;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Tests.Grants;

/// <summary>The seam the rights and consent modules will call: revoke all for a subject, or for a subject and one client.</summary>
public abstract class GrantRevocationTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly ServiceProvider _services = StoreServices.Build(stores, s =>
        s.AddComplianceOidc(new ConfigurationBuilder().AddInMemoryCollection(stores.Settings).Build()));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task RevokeSubjectClient_RevokesThatClientsGrantsOnly()
    {
        var subject = Guid.CreateVersion7();
        await SeedAsync(subject, "partner-a");
        await SeedAsync(subject, "partner-b");

        await using (var scope = _services.CreateAsyncScope())
        {
            var revoked = await scope.ServiceProvider.GetRequiredService<IGrantRevocation>().RevokeSubjectClientAsync(subject, "partner-a", CancellationToken.None);
            revoked.ShouldBe(4);
        }

        (await ActiveAsync(subject, "partner-a")).ShouldBe((0, 0, 0, 0));
        (await ActiveAsync(subject, "partner-b")).ShouldBe((1, 1, 1, 1));
    }

    [Fact]
    public async Task RevokeSubject_RevokesEveryClient_AndNobodyElse()
    {
        var subject = Guid.CreateVersion7();
        var bystander = Guid.CreateVersion7();
        await SeedAsync(subject, "partner-a");
        await SeedAsync(subject, "partner-b");
        await SeedAsync(bystander, "partner-a");

        await using (var scope = _services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IGrantRevocation>().RevokeSubjectAsync(subject, CancellationToken.None);
        }

        (await ActiveAsync(subject, "partner-a")).ShouldBe((0, 0, 0, 0));
        (await ActiveAsync(subject, "partner-b")).ShouldBe((0, 0, 0, 0));
        (await ActiveAsync(bystander, "partner-a")).ShouldBe((1, 1, 1, 1));
    }

    private async Task SeedAsync(Guid subject, string clientId)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var now = DateTimeOffset.UtcNow;
        var family = Guid.CreateVersion7();
        db.Add(new ConsentGrant { Id = Guid.CreateVersion7(), SubjectId = subject, ClientId = clientId, Scopes = "openid", CreatedAt = now, UpdatedAt = now });
        db.Add(new AuthorizationCode
        {
            CodeHash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"), IssuanceId = family, ClientId = clientId, SubjectId = subject,
            RedirectUri = "https://p.example/cb", Scope = "openid", CodeChallenge = "c", SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd",
            CreatedAt = now, ExpiresAt = now.AddMinutes(1),
        });
        db.Add(new RefreshToken
        {
            TokenHash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"), FamilyId = family, ClientId = clientId, SubjectId = subject,
            Scope = "openid", SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd", CreatedAt = now, ExpiresAt = now.AddDays(1), AbsoluteExpiresAt = now.AddDays(30),
        });
        db.Add(new IssuedToken { TokenId = Guid.NewGuid().ToString("N"), FamilyId = family, ClientId = clientId, SubjectId = subject, ExpiresAt = now.AddMinutes(5) });
        await db.SaveChangesAsync();
    }

    private async Task<(int Grants, int Codes, int Refresh, int Access)> ActiveAsync(Guid subject, string clientId)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        return (
            await db.Set<ConsentGrant>().CountAsync(g => g.SubjectId == subject && g.ClientId == clientId && g.RevokedAt == null),
            await db.Set<AuthorizationCode>().CountAsync(c => c.SubjectId == subject && c.ClientId == clientId && c.ConsumedAt == null),
            await db.Set<RefreshToken>().CountAsync(t => t.SubjectId == subject && t.ClientId == clientId && t.RevokedAt == null),
            await db.Set<IssuedToken>().CountAsync(t => t.SubjectId == subject && t.ClientId == clientId && t.RevokedAt == null));
    }
}

public sealed class GrantRevocationTests_Sqlite(SqliteStores stores) : GrantRevocationTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class GrantRevocationTests_Postgres(PostgresStores stores) : GrantRevocationTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
