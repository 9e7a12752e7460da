using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Data.Storage;
using Compliance.Jobs.Notices;
using Compliance.Jobs.Work;
using Compliance.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compliance.Jobs.Tests.Notices;

/// <summary>
/// The notices seam and their delivery on each store: posted now or for later, claimed by the reconciler once due and
/// not held by a job, delivered once (one audit row) however many runs, listed unread first, read only by their owner.
/// </summary>
public abstract class NoticesTests<TStores>(TStores stores) : IAsyncLifetime
    where TStores : StoreFixture
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(300);
    private readonly TestClock _clock = new(new DateTimeOffset(2030, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingScheduler _scheduler = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(stores.Settings)
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Jobs:Server"] = "false", ["Jobs:EnqueuedLeaseSeconds"] = "300" })
            .Build();
        _services = StoreServices.Build(stores, services =>
        {
            services.AddComplianceJobs(configuration).AddComplianceNotices().AddComplianceNotices();
            services.Replace(ServiceDescriptor.Singleton<IJobScheduler>(_scheduler));
            services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_clock));
        });

        // One class's tests share a database: each starts from no notice and no delivery row.
        await StoreSql.ExecuteAsync(stores.Compliance, "DELETE FROM notices");
        await StoreSql.ExecuteAsync(stores.Compliance, $"DELETE FROM audit_events WHERE event_id = {AuditEventTypes.NoticeDelivered.Id}");
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task PostNow_IsEnqueuedWithItsLease_AndListedOnlyOnceDelivered()
    {
        var account = Guid.CreateVersion7();
        var request = Guid.CreateVersion7();

        var id = await PostAsync(account, NoticeFacts.RequestReceived(request, _clock.GetUtcNow().AddMonths(1)));

        _scheduler.Calls.ShouldBe([(NoticeDelivery.WorkKind, id, (DateTimeOffset?)null)]);
        var row = await RowAsync(id);
        row.DueAt.ShouldBe(_clock.GetUtcNow());
        row.EnqueuedUntil.ShouldBe(_clock.GetUtcNow() + Lease);
        row.DeliveredAt.ShouldBeNull();
        (await ListAsync(account)).ShouldBeEmpty("posted is not delivered");
        (await CountUnreadAsync(account)).ShouldBe(0);

        await RunAsync(id);

        var listed = (await ListAsync(account)).ShouldHaveSingleItem();
        listed.Id.ShouldBe(id);
        listed.Facts.ShouldBe(NoticeFacts.RequestReceived(request, _clock.GetUtcNow().AddMonths(1)));
        listed.DeliveredAt.ShouldBe(_clock.GetUtcNow());
        listed.IsRead.ShouldBeFalse();
        (await CountUnreadAsync(account)).ShouldBe(1);
    }

    [Fact]
    public async Task PostLater_IsScheduledAtItsTime_AndNeitherClaimedNorDeliveredBefore()
    {
        var account = Guid.CreateVersion7();
        var dueAt = _clock.GetUtcNow().AddHours(2);

        var id = await PostAsync(account, NoticeFacts.BreakGlassAccess("teleconsult-a", _clock.GetUtcNow().AddMinutes(-5)), dueAt);

        _scheduler.Calls.ShouldBe([(NoticeDelivery.WorkKind, id, (DateTimeOffset?)dueAt)]);
        (await ClaimAsync(ignoreEnqueued: true)).ShouldNotContain(id, "not due yet");
        await RunAsync(id); // a job that runs early
        (await RowAsync(id)).DeliveredAt.ShouldBeNull();
        (await ListAsync(account)).ShouldBeEmpty();

        _clock.Advance(TimeSpan.FromHours(2));
        (await ClaimAsync()).ShouldNotContain(id, "its scheduled job holds it until due + lease");
        _clock.Advance(Lease);
        (await ClaimAsync()).ShouldBe([id], "the job was lost: the reconciler takes it");

        await RunAsync(id);
        (await ListAsync(account)).ShouldHaveSingleItem().Id.ShouldBe(id);
    }

    [Fact]
    public async Task Claim_ReturnsDueOnly_OldestFirst_WithinTheLimit_AndSkipsLeasedUnlessIgnoringThem()
    {
        var account = Guid.CreateVersion7();
        var first = await PostAsync(account, Erasure());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var second = await PostAsync(account, Erasure());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var third = await PostAsync(account, Erasure());
        var later = await PostAsync(account, Erasure(), _clock.GetUtcNow().AddDays(1));

        (await ClaimAsync()).ShouldBeEmpty("each is held by the job enqueued when it was posted");
        _clock.Advance(TimeSpan.FromMinutes(1));
        (await ClaimAsync(ignoreEnqueued: true, limit: 2)).ShouldBe([first, second], ignoreOrder: true, "a first pass takes held ones too, the oldest first");
        (await RowAsync(first)).EnqueuedUntil.ShouldBe(_clock.GetUtcNow() + Lease);

        _clock.Advance(Lease - TimeSpan.FromMinutes(1));
        (await ClaimAsync()).ShouldBe([third], "its lease is over; the first two were claimed again a minute after it began");
        _clock.Advance(Lease);
        var claimed = await ClaimAsync(limit: 10);
        claimed.ShouldBe([first, second, third], ignoreOrder: true, "not the one due tomorrow");

        await RunAsync(first);
        _clock.Advance(Lease);
        (await ClaimAsync(limit: 10)).ShouldNotContain(first, "delivered is finished");
    }

    [Fact]
    public async Task Claim_TwoReconcilersAtOnce_ClaimEachNoticeOnce()
    {
        var account = Guid.CreateVersion7();
        var ids = new List<Guid>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add(await PostAsync(account, Erasure()));
        }

        _clock.Advance(Lease);

        // The first reconciler's claim is written but not committed while the second one claims.
        await using var first = _services.CreateAsyncScope();
        var db = first.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var now = _clock.GetUtcNow();
        var firstClaim = await first.ServiceProvider.GetServices<IDueWork>().Single(w => w.Kind == NoticeDelivery.WorkKind)
            .ClaimDueAsync(now, now + Lease, 25, ignoreEnqueued: false, CancellationToken.None);
        var secondClaim = Task.Run(() => ClaimAsync(limit: 40));
        await Task.WhenAny(secondClaim, Task.Delay(TimeSpan.FromMilliseconds(500))); // PostgreSQL skips the held rows; SQLite waits
        await transaction.CommitAsync();

        firstClaim.Count.ShouldBe(25);
        (await secondClaim).ShouldBe(ids.Except(firstClaim), ignoreOrder: true);
    }

    [Fact]
    public async Task Reconciler_ALostDeliveryJob_IsEnqueuedAgainAfterItsLease()
    {
        var id = await PostAsync(Guid.CreateVersion7(), Erasure());
        _scheduler.Calls.Clear(); // the job is lost with the job store

        await using (var scope = _services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<Reconciler>().ReconcileAsync(ignoreEnqueued: false, CancellationToken.None)).ShouldBe(0);
        }

        _clock.Advance(Lease);
        await using (var scope = _services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<Reconciler>().ReconcileAsync(ignoreEnqueued: false, CancellationToken.None)).ShouldBe(1);
        }

        _scheduler.Calls.ShouldBe([(NoticeDelivery.WorkKind, id, (DateTimeOffset?)null)]);
    }

    [Fact]
    public async Task Reconciler_ADeliveryJobStillWaitingInTheStore_IsNotEnqueuedAgain_NotEvenByTheFirstPass()
    {
        var id = await PostAsync(Guid.CreateVersion7(), Erasure());
        _scheduler.Calls.ShouldBe([(NoticeDelivery.WorkKind, id, (DateTimeOffset?)null)]);

        _clock.Advance(Lease);
        await using (var scope = _services.CreateAsyncScope())
        {
            var reconciler = scope.ServiceProvider.GetRequiredService<Reconciler>();
            (await reconciler.ReconcileAsync(ignoreEnqueued: true, CancellationToken.None)).ShouldBe(0);
            (await reconciler.ReconcileAsync(ignoreEnqueued: false, CancellationToken.None)).ShouldBe(0, "the first pass renewed the lease");
        }

        _clock.Advance(Lease);
        await using (var scope = _services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<Reconciler>().ReconcileAsync(ignoreEnqueued: false, CancellationToken.None)).ShouldBe(0);
        }

        _scheduler.Calls.ShouldBe([(NoticeDelivery.WorkKind, id, (DateTimeOffset?)null)]); // the one job, still waiting, is enough
        var row = await RowAsync(id);
        row.DeliveredAt.ShouldBeNull("nothing ran the job yet");
        row.EnqueuedUntil.ShouldBe(_clock.GetUtcNow() + Lease, "each pass renewed the lease of the job that still waits");
    }

    [Fact]
    public async Task Run_Twice_DeliversOnce_WithOneAuditRowOfIdAndKindOnly()
    {
        var account = Guid.CreateVersion7();
        var id = await PostAsync(account, NoticeFacts.BreakGlassAccess("teleconsult-a", _clock.GetUtcNow()));
        var deliveredAt = _clock.GetUtcNow();

        await RunAsync(id);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await RunAsync(id); // a retry, or the reconciler's second job

        (await RowAsync(id)).DeliveredAt.ShouldBe(deliveredAt);
        var audit = (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.NoticeDelivered.Id, id.ToString("D"))).ShouldHaveSingleItem();
        audit.Name.ShouldBe("notice.delivered");
        audit.Actor.ShouldStartWith(AuditActor.ServerPrefix);
        Guid.Parse(audit.SubjectId!).ShouldBe(account);
        audit.Details.ShouldBe($$"""{"notice_id":"{{id:D}}","kind":"break_glass_access"}""");
        audit.ShouldHoldOnlyIdsAndEnumeratedValues();
        audit.AllText.ShouldNotContain("teleconsult-a", customMessage: "the facts stay in the notice");
    }

    [Fact]
    public async Task Run_TwoAtOnceOnTheSameNotice_DeliverOnce_WithOneAuditRow()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await PostAsync(Guid.CreateVersion7(), Erasure()));
        }

        foreach (var id in ids)
        {
            using var start = new Barrier(2);
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                start.SignalAndWait();
                await RunAsync(id);
            })));
        }

        foreach (var id in ids)
        {
            (await RowAsync(id)).DeliveredAt.ShouldNotBeNull();
            (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.NoticeDelivered.Id, id.ToString("D"))).Count.ShouldBe(1, $"notice {id}");
        }
    }

    [Fact]
    public async Task Run_AnUnknownId_ChangesNothing()
    {
        var id = await PostAsync(Guid.CreateVersion7(), Erasure());

        await RunAsync(Guid.CreateVersion7());

        (await RowAsync(id)).DeliveredAt.ShouldBeNull();
        (await AuditRows.ReadAsync(stores.Compliance, AuditEventTypes.NoticeDelivered.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task MarkRead_AnotherAccountsNotice_IsNotFound_AndChangesNothing()
    {
        var owner = Guid.CreateVersion7();
        var other = Guid.CreateVersion7();
        var id = await PostAsync(owner, Erasure());
        var pending = await PostAsync(owner, Erasure(), _clock.GetUtcNow().AddDays(1));
        await RunAsync(id);

        (await MarkReadAsync(other, id)).ShouldBeFalse();
        (await RowAsync(id)).ReadAt.ShouldBeNull();
        (await CountUnreadAsync(owner)).ShouldBe(1);
        (await MarkReadAsync(owner, pending)).ShouldBeFalse("not delivered yet: not there for the patient");
        (await MarkReadAsync(owner, Guid.CreateVersion7())).ShouldBeFalse();
        (await RowAsync(pending)).ReadAt.ShouldBeNull();

        (await MarkReadAsync(owner, id)).ShouldBeTrue();
        var readAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMinutes(1));
        (await MarkReadAsync(owner, id)).ShouldBeTrue("marking again is the same answer");
        (await RowAsync(id)).ReadAt.ShouldBe(readAt);
        (await CountUnreadAsync(owner)).ShouldBe(0);
    }

    [Fact]
    public async Task List_ShowsUnreadFirst_ThenNewest_OnlyTheAccountsOwn_WithinTheLimit()
    {
        var account = Guid.CreateVersion7();
        var ids = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var id = await PostAsync(account, NoticeFacts.RequestCompleted(Guid.CreateVersion7(), _clock.GetUtcNow()));
            await RunAsync(id);
            ids.Add(id);
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        var stranger = await PostAsync(Guid.CreateVersion7(), Erasure());
        await RunAsync(stranger);
        await MarkReadAsync(account, ids[1]);
        await MarkReadAsync(account, ids[3]);

        (await ListAsync(account)).Select(n => n.Id).ShouldBe([ids[2], ids[0], ids[3], ids[1]]);
        (await ListAsync(account, limit: 3)).Select(n => n.Id).ShouldBe([ids[2], ids[0], ids[3]]);
        (await CountUnreadAsync(account)).ShouldBe(2);
    }

    [Fact]
    public async Task Row_HoldsOnlyStructuredFacts_NoColumnForANameOrAText()
    {
        var account = Guid.CreateVersion7();
        var id = await PostAsync(account, NoticeFacts.PartnerErasure("teleconsult-a", _clock.GetUtcNow()));

        (await ColumnsAsync()).Order().ShouldBe(
        [
            "account_id", "client_id", "created_at", "deadline_at", "delivered_at", "due_at", "enqueued_until", "id", "kind", "occurred_at", "read_at", "request_id",
        ]);
        await using var connection = StoreSql.Connect(stores.Compliance);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, client_id FROM notices";
        await using var reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        reader.GetString(0).ShouldBe("partner_erasure");
        reader.GetString(1).ShouldBe("teleconsult-a");
        (await RowAsync(id)).AccountId.ShouldBe(account);
    }

    [Theory]
    [InlineData("Dr Jean Dupont")]
    [InlineData("jean.dupont@example.fr")]
    [InlineData("ab")]
    [InlineData("né-à-Paris")]
    public void Facts_APartnerNamedByAnythingButAClientId_AreRefused(string clientId)
    {
        Should.Throw<ArgumentException>(() => NoticeFacts.PartnerErasure(clientId, DateTimeOffset.UtcNow));
        Should.Throw<ArgumentException>(() => NoticeFacts.BreakGlassAccess(clientId, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Post_AnEmptyAccountOrRequest_IsRefused_AndNothingIsWritten()
    {
        Should.Throw<ArgumentException>(() => NoticeFacts.RequestReceived(Guid.Empty, DateTimeOffset.UtcNow));
        await Should.ThrowAsync<ArgumentException>(() => PostAsync(Guid.Empty, Erasure()));
        (await StoreSql.CountAsync(stores.Compliance, "SELECT COUNT(*) FROM notices")).ShouldBe(0);
    }

    [Fact]
    public async Task Post_WithTheJobStoreDown_IsSaved_AndTheReconcilerTakesItAfterTheLease()
    {
        _scheduler.Down = true;

        var id = await PostAsync(Guid.CreateVersion7(), Erasure());

        (await RowAsync(id)).DeliveredAt.ShouldBeNull();
        _clock.Advance(Lease);
        (await ClaimAsync()).ShouldBe([id]);
    }

    [Fact]
    public async Task Post_InsideTheCallersTransaction_IsNotNudgedBeforeTheCommit_AndTheReconcilerTakesItAtOnce()
    {
        Guid committed;
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            committed = await scope.ServiceProvider.GetRequiredService<INotices>().PostAsync(Guid.CreateVersion7(), Erasure(), null, CancellationToken.None);
            await transaction.CommitAsync();
        }

        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            await scope.ServiceProvider.GetRequiredService<INotices>().PostAsync(Guid.CreateVersion7(), Erasure(), null, CancellationToken.None);
            await transaction.RollbackAsync();
        }

        _scheduler.Calls.ShouldBeEmpty("a job enqueued before the commit could run first and find nothing");
        (await ClaimAsync()).ShouldBe([committed], "the rolled-back one never existed");
    }

    [Fact]
    public async Task Post_ATimeWithAnOffset_IsDueAtThatInstant()
    {
        // The clock is at 09:00 UTC. Noon in Paris (summer time) is 10:00 UTC: before 10:30 UTC, though its clock time is later.
        var parisNoon = await PostAsync(Guid.CreateVersion7(), Erasure(), new DateTimeOffset(2030, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)));
        var utcHalfPastTen = await PostAsync(Guid.CreateVersion7(), Erasure(), new DateTimeOffset(2030, 3, 1, 10, 30, 0, TimeSpan.Zero));

        _clock.Advance(TimeSpan.FromMinutes(75));
        (await ClaimAsync(ignoreEnqueued: true)).ShouldBe([parisNoon]);
        (await OldestDueAsync()).ShouldBe(new DateTimeOffset(2030, 3, 1, 10, 0, 0, TimeSpan.Zero));
        _clock.Advance(TimeSpan.FromMinutes(30));
        (await ClaimAsync(ignoreEnqueued: true)).ShouldBe([parisNoon, utcHalfPastTen], ignoreOrder: true);
    }

    [Fact]
    public async Task OldestDue_IsTheEarliestUndelivered_OrNone()
    {
        (await OldestDueAsync()).ShouldBeNull();
        var first = await PostAsync(Guid.CreateVersion7(), Erasure());
        var firstDue = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMinutes(1));
        await PostAsync(Guid.CreateVersion7(), Erasure());
        await PostAsync(Guid.CreateVersion7(), Erasure(), _clock.GetUtcNow().AddDays(1));

        (await OldestDueAsync()).ShouldBe(firstDue);
        await RunAsync(first);
        (await OldestDueAsync()).ShouldBe(_clock.GetUtcNow());
    }

    [Fact]
    public void AddComplianceNotices_Twice_RegistersTheDeliveryOnce()
    {
        using var scope = _services.CreateScope();
        scope.ServiceProvider.GetServices<IDueWork>().Count(w => w.Kind == NoticeDelivery.WorkKind).ShouldBe(1);
    }

    private NoticeFacts Erasure() => NoticeFacts.PartnerErasure("teleconsult-a", _clock.GetUtcNow());

    private async Task<Guid> PostAsync(Guid account, NoticeFacts facts, DateTimeOffset? deliverAt = null)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<INotices>().PostAsync(account, facts, deliverAt, CancellationToken.None);
    }

    // As the job does: DueWorkJob finds the kind and runs it, in a scope of its own.
    private async Task RunAsync(Guid id)
    {
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DueWorkJob>().RunAsync(NoticeDelivery.WorkKind, id, CancellationToken.None);
    }

    private async Task<IReadOnlyList<Guid>> ClaimAsync(bool ignoreEnqueued = false, int limit = 100)
    {
        await using var scope = _services.CreateAsyncScope();
        var work = scope.ServiceProvider.GetServices<IDueWork>().Single(w => w.Kind == NoticeDelivery.WorkKind);
        var now = _clock.GetUtcNow();
        return await work.ClaimDueAsync(now, now + Lease, limit, ignoreEnqueued, CancellationToken.None);
    }

    private async Task<DateTimeOffset?> OldestDueAsync()
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetServices<IDueWork>().Single(w => w.Kind == NoticeDelivery.WorkKind).OldestDueAsync(_clock.GetUtcNow(), CancellationToken.None);
    }

    private async Task<IReadOnlyList<Notice>> ListAsync(Guid account, int limit = 50)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<INotices>().ListAsync(account, limit, CancellationToken.None);
    }

    private async Task<int> CountUnreadAsync(Guid account)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<INotices>().CountUnreadAsync(account, CancellationToken.None);
    }

    private async Task<bool> MarkReadAsync(Guid account, Guid id)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<INotices>().MarkReadAsync(account, id, CancellationToken.None);
    }

    private async Task<NoticeRecord> RowAsync(Guid id)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComplianceDbContext>().Set<NoticeRecord>().AsNoTracking().SingleAsync(n => n.Id == id);
    }

    private async Task<List<string>> ColumnsAsync()
    {
        await using var connection = StoreSql.Connect(stores.Compliance);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = stores.Provider == DatabaseProvider.PostgreSQL
            ? "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'notices'"
            : "SELECT name FROM pragma_table_info('notices')";
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }
}

public sealed class NoticesTests_Sqlite(SqliteStores stores) : NoticesTests<SqliteStores>(stores), IClassFixture<SqliteStores>;

public sealed class NoticesTests_Postgres(PostgresStores stores) : NoticesTests<PostgresStores>(stores), IClassFixture<PostgresStores>;
