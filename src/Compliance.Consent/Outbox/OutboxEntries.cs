using Compliance.Consent.Ledger;
using Compliance.Jobs;
using Compliance.Jobs.Work;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Subjects;
using Compliance.Policies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>What the outbox row of an event will hold, computed before the append lock is taken.</summary>
/// <param name="EventType">One of <see cref="OutboxEventTypes"/>.</param>
/// <param name="Subject">The partner's pairwise <c>sub</c>.</param>
/// <param name="Push">The partner has a webhook: the row is due at once.</param>
/// <param name="GiveUpAfter">How long failing attempts go on.</param>
/// <param name="Lease">How long the job enqueued after the commit holds the row; null when this node enqueues none.</param>
internal sealed record OutboxEntry(string EventType, string Subject, bool Push, TimeSpan GiveUpAfter, TimeSpan? Lease);

/// <summary>
/// The ledger's side of the outbox: an entry per event a partner learns of (before the append lock, since the partner
/// and the pairwise <c>sub</c> may need the store), the rows written in the append transaction, and the nudge of the
/// delivery job after the commit. A row is written for every such event, with or without a webhook: the pull needs it.
/// </summary>
internal sealed class OutboxEntries(
    IPartnerDirectory partners,
    IPairwiseSubjects subjects,
    IOptions<OutboxOptions> options,
    IOptions<JobsOptions> jobs,
    IServiceProvider services,
    ILogger<OutboxEntries> logger,
    PolicySet? policies = null)
{
    // A host without the job module (a CLI, a test) has no scheduler: the reconciler of a server takes the rows.
    private readonly IJobScheduler? _scheduler = services.GetService<IJobScheduler>();

    public async Task<OutboxEntry?> ForAsync(ConsentEventDraft draft, CancellationToken cancellationToken)
    {
        if (OutboxEventTypes.For(draft.State) is not { } type || await partners.FindAsync(draft.ClientId, cancellationToken) is not { } partner
            || partner.MustNotLearnOf(draft.PurposeId, policies))
        {
            return null;
        }

        var subject = await subjects.SubjectForAsync(draft.SubjectId, partner.Sector, cancellationToken);
        return new OutboxEntry(type, subject, partner.WebhookUrl is not null, options.Value.GiveUpAfter,
            _scheduler is null ? null : TimeSpan.FromSeconds(jobs.Value.EnqueuedLeaseSeconds));
    }

    /// <summary>The outbox rows of appended events, as the append transaction writes them.</summary>
    public static List<OutboxEvent> Rows(IEnumerable<LedgerRows> rows) =>
    [
        .. rows.Where(r => r.Event.Outbox is not null).Select(r =>
        {
            var entry = r.Event.Outbox!;
            var draft = r.Event.Draft;
            return new OutboxEvent
            {
                EventId = r.Event.EventId,
                ClientId = draft.ClientId,
                EventType = entry.EventType,
                Subject = entry.Subject,
                PurposeId = draft.PurposeId,
                LeafIndex = r.Index,
                OccurredAt = draft.OccurredAt.ToUniversalTime(),
                CreatedAt = r.AppendedAt,
                DueAt = entry.Push ? r.AppendedAt : null,
                GiveUpAt = r.AppendedAt + entry.GiveUpAfter,
                EnqueuedUntil = entry.Push && entry.Lease is { } lease ? r.AppendedAt + lease : null,
            };
        }),
    ];

    /// <summary>After the commit: enqueues the delivery of each pushed event. Only a nudge: the reconciler enqueues a lost one.</summary>
    public void Nudge(IReadOnlyList<PreparedEvent> prepared)
    {
        if (_scheduler is null)
        {
            return;
        }

        foreach (var item in prepared.Where(p => p.Outbox is { Push: true }))
        {
            try
            {
                _scheduler.Enqueue(WebhookDelivery.WorkKind, item.EventId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                OutboxLog.NudgeFailed(logger, item.EventId, e);
            }
        }
    }
}
