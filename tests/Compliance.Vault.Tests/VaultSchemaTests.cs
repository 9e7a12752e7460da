using Compliance.Testing;
using Compliance.Vault.Identity;
using Compliance.Vault.Traces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Vault.Tests;

/// <summary>The vault's invariants are enforced by the database itself, on both providers.</summary>
public abstract class VaultSchemaTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private readonly ServiceProvider _services = StoreServices.Build(stores, s => s.AddComplianceVault());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task AccessTrace_BreakGlassWithoutReason_IsRejectedByTheDatabase()
    {
        await using var scope = _services.CreateAsyncScope();
        var vault = scope.ServiceProvider.GetRequiredService<VaultDbContext>();
        vault.AccessTraces.Add(Trace(breakGlass: true, reason: null));

        await Should.ThrowAsync<DbUpdateException>(() => vault.SaveChangesAsync());
    }

    [Fact]
    public async Task AccessTrace_BreakGlassWithReason_IsKeptWithItsTime()
    {
        var at = new DateTimeOffset(2026, 11, 21, 22, 15, 0, TimeSpan.Zero);
        await using (var scope = _services.CreateAsyncScope())
        {
            var vault = scope.ServiceProvider.GetRequiredService<VaultDbContext>();
            vault.AccessTraces.Add(Trace(breakGlass: true, reason: "Unconscious patient, emergency regulation call", at));
            await vault.SaveChangesAsync();
        }

        await using var read = _services.CreateAsyncScope();
        var traces = await read.ServiceProvider.GetRequiredService<VaultDbContext>().AccessTraces
            .Where(t => t.SubjectLink == "link-1" && t.OccurredAt >= at.AddMinutes(-1)).ToListAsync();
        traces.ShouldHaveSingleItem().OccurredAt.ShouldBe(at);
    }

    [Theory]
    [InlineData("PROV", true)]
    [InlineData("QUAL", true)]
    [InlineData("qual", false)]
    [InlineData("VERIFIED", false)]
    public async Task IdentityRecord_Status_OnlyTheFourNationalStatusesAreAccepted(string status, bool accepted)
    {
        await using var scope = _services.CreateAsyncScope();
        var vault = scope.ServiceProvider.GetRequiredService<VaultDbContext>();
        vault.IdentityRecords.Add(new IdentityRecord
        {
            SubjectLink = Guid.NewGuid().ToString("N"),
            Status = status,
            KeyId = "local:kek-1",
            WrappedDataKey = [1, 2, 3],
            Ciphertext = [4, 5, 6],
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        });

        if (accepted)
        {
            await vault.SaveChangesAsync();
        }
        else
        {
            await Should.ThrowAsync<DbUpdateException>(() => vault.SaveChangesAsync());
        }
    }

    private static AccessTrace Trace(bool breakGlass, string? reason, DateTimeOffset? at = null) => new()
    {
        SubjectLink = "link-1",
        OccurredAt = at ?? DateTimeOffset.UtcNow,
        Actor = "professional:7f3a",
        Action = breakGlass ? "break-glass" : "read",
        DataCategories = "civil-identity",
        Reason = reason,
        BreakGlass = breakGlass,
    };
}

public sealed class VaultSchemaTests_Sqlite(SqliteStores stores) : VaultSchemaTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class VaultSchemaTests_Postgres(PostgresStores stores) : VaultSchemaTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
