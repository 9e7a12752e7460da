using Compliance.Data.Model;
using Compliance.Oidc.Endpoints.Token;
using Compliance.Oidc.Grants;
using Compliance.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Oidc.Tests.Endpoints;

/// <summary>
/// Group commit on SQLite: issuances queued together are written together, yet each is all or nothing and answers
/// for itself. They are queued back to back, so that most land in one batch; the assertions hold however the writer
/// happens to cut them.
/// </summary>
public sealed class IssuanceBatchesTests(SqliteStores stores) : IClassFixture<SqliteStores>, IAsyncLifetime
{
    private readonly ServiceProvider _services = StoreServices.Build(stores, s =>
        s.AddComplianceOidc(new ConfigurationBuilder().AddInMemoryCollection(stores.Settings).Build()));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task QueuedTogether_ARevokedFamilyAndAReplay_AreRefusedAlone_TheOthersCommit()
    {
        var open = await SeedCodeAsync(revoked: false);
        var revoked = await SeedCodeAsync(revoked: true);
        var other = await SeedCodeAsync(revoked: false);
        var batches = _services.GetRequiredService<IssuanceBatches>();

        var results = await Task.WhenAll(
            batches.CommitAsync(await WorkAsync(open, "t-open")),
            batches.CommitAsync(await WorkAsync(revoked, "t-revoked")),
            batches.CommitAsync(await WorkAsync(open, "t-replay")),
            batches.CommitAsync(await WorkAsync(other, "t-other")));

        results.ShouldBe([IssueOutcome.Issued, IssueOutcome.FamilyRevoked, IssueOutcome.ClaimLost, IssueOutcome.Issued]);
        (await TokenIdsAsync(open, revoked, other)).ShouldBe(["t-open", "t-other"], ignoreOrder: true);
        (await ConsumedAsync(revoked.CodeHash)).ShouldBeFalse("a refused issuance writes nothing, not even its claim");
        (await RefreshCountAsync(open.IssuanceId)).ShouldBe(1);
    }

    [Fact]
    public async Task QueuedTogether_OneThatFailsInTheDatabase_FailsAlone_WithNothingHalfWritten()
    {
        var first = await SeedCodeAsync(revoked: false);
        var clash = await SeedCodeAsync(revoked: false);
        var batches = _services.GetRequiredService<IssuanceBatches>();

        // The second reuses the first's access-token id: its insert breaks the primary key after its claim succeeded.
        var issued = batches.CommitAsync(await WorkAsync(first, "t-same"));
        var failing = batches.CommitAsync(await WorkAsync(clash, "t-same"));

        (await issued).ShouldBe(IssueOutcome.Issued);
        await Should.ThrowAsync<SqliteException>(failing);
        (await TokenIdsAsync(first, clash)).ShouldBe(["t-same"]);
        (await ConsumedAsync(first.CodeHash)).ShouldBeTrue();
        (await ConsumedAsync(clash.CodeHash)).ShouldBeFalse("the failed issuance's claim was rolled back with it");
        (await RefreshCountAsync(clash.IssuanceId)).ShouldBe(0);
    }

    private async Task<AuthorizationCode> SeedCodeAsync(bool revoked)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var now = DateTimeOffset.UtcNow;
        var code = new AuthorizationCode
        {
            CodeHash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"), IssuanceId = Guid.CreateVersion7(), ClientId = "partner",
            SubjectId = Guid.CreateVersion7(), RedirectUri = "https://partner.example/cb", Scope = "openid offline_access", CodeChallenge = "c",
            SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd", CreatedAt = now, ExpiresAt = now.AddMinutes(1),
        };
        db.Add(code);
        db.Add(new TokenFamily { FamilyId = code.IssuanceId, ClientId = code.ClientId, SubjectId = code.SubjectId, CreatedAt = now, RevokedAt = revoked ? now : null });
        await db.SaveChangesAsync();
        return code;
    }

    private async Task<SqliteIssuance> WorkAsync(AuthorizationCode code, string tokenId)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        var now = DateTimeOffset.UtcNow;
        var access = new IssuedToken { TokenId = tokenId, FamilyId = code.IssuanceId, ClientId = code.ClientId, SubjectId = code.SubjectId, ExpiresAt = now.AddMinutes(5) };
        var refresh = new RefreshToken
        {
            TokenHash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"), FamilyId = code.IssuanceId, ClientId = code.ClientId,
            SubjectId = code.SubjectId, Scope = code.Scope, SessionId = "s", AuthTime = now, Acr = "eidas1", Amr = "pwd", CreatedAt = now,
            ExpiresAt = now.AddDays(1), AbsoluteExpiresAt = now.AddDays(30),
        };
        return IssuanceCommit.ForSqlite(db, IssuanceClaim.Code(code.CodeHash, code.ClientId, now), code.IssuanceId, access, refresh);
    }

    private async Task<List<string>> TokenIdsAsync(params AuthorizationCode[] codes)
    {
        var families = codes.Select(c => (Guid?)c.IssuanceId).ToList();
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<IssuedToken>()
            .Where(t => families.Contains(t.FamilyId)).Select(t => t.TokenId).ToListAsync();
    }

    private async Task<bool> ConsumedAsync(string codeHash)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<AuthorizationCode>()
            .AnyAsync(c => c.CodeHash == codeHash && c.ConsumedAt != null);
    }

    private async Task<int> RefreshCountAsync(Guid family)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<RefreshToken>().CountAsync(t => t.FamilyId == family);
    }
}
