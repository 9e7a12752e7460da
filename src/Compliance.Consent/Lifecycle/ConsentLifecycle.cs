using Compliance.Consent.Decisions;
using Compliance.Consent.Ledger;
using Compliance.Data.Model;
using Compliance.Jobs.Work;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Lifecycle;

/// <summary>
/// The recurring job that writes down what time and the policies did to given consents: an <c>Invalidated</c> event
/// (DPV) for each consent given under a notice version that a material version in force has superseded, then an
/// <c>Expired</c> event for each consent past its validity. Until it runs, such a consent is already treated as not
/// standing; afterwards the ledger says so too, and the patient's next yes is a renewal.
/// <para>
/// Each event expects the state it was decided on (<see cref="ConsentEventDraft.ExpectedCurrentEventId"/>), checked
/// under the ledger's append lock: two nodes running at once, or a patient renewing at the same instant, leave one
/// event and never an expiry after a renewal.
/// </para>
/// </summary>
internal sealed class ConsentLifecycle(
    IConsentLedger ledger,
    ComplianceDbContext db,
    PolicySet policies,
    IOptions<ConsentOptions> options,
    TimeProvider time,
    ILogger<ConsentLifecycle> logger) : IRecurringWork
{
    public const string WorkId = "consent.lifecycle";

    /// <summary>The actor of the events: the service itself.</summary>
    public const string SystemActor = "system";

    /// <summary>Consents read per query; they are appended in calls of the ledger's largest append.</summary>
    public const int PageSize = 500;

    /// <summary>A run stops after this and leaves the rest to the next one (five minutes later by default).</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(50);

    public string Id => WorkId;

    public string Cron => options.Value.LifecycleCron;

    public async Task RunAsync(CancellationToken cancellationToken) => await RecordAsync(cancellationToken);

    /// <summary>One run: every lapsed consent found gets its event, within <see cref="Budget"/>.</summary>
    public async Task<ConsentLifecycleRun> RecordAsync(CancellationToken cancellationToken)
    {
        var run = new Run(time);
        foreach (var purpose in policies.Purposes.Where(p => p.ConsentRequired))
        {
            if (purpose.MaterialSince(run.Now) is not { } since)
            {
                continue;
            }

            // The versions older than the latest material one in force (a given consent always records its version).
            var superseded = purpose.Notices.Where(n => n.EffectiveFrom < since).Select(n => n.Version).ToList();
            await SweepAsync(run, ConsentState.Invalidated,
                db.Set<ConsentStanding>().Where(s => s.PurposeId == purpose.Id && superseded.Contains(s.NoticeVersion!)).OrderBy(s => s.OccurredAt),
                row => LedgerConsentDecisions.InvalidatedByMaterialNotice(row, purpose, run.Now),
                cancellationToken);
        }

        await SweepAsync(run, ConsentState.Expired,
            db.Set<ConsentStanding>().Where(s => s.ExpiresAt <= run.Now).OrderBy(s => s.ExpiresAt),
            row => row.ExpiresAt <= run.Now,
            cancellationToken);

        var result = new ConsentLifecycleRun(run.Written[ConsentState.Expired], run.Written[ConsentState.Invalidated], run.Refused, !run.OverBudget);
        if (result.Expired + result.Invalidated + result.Refused > 0)
        {
            LifecycleLog.Recorded(logger, result.Expired, result.Invalidated, result.Refused);
        }

        if (run.OverBudget)
        {
            LifecycleLog.BudgetSpent(logger, (int)Budget.TotalSeconds);
        }

        return result;
    }

    /// <summary>
    /// Pages through the given consents that <paramref name="candidates"/> finds. Each page holds only consents not yet
    /// seen to lapse or be refused in this run, so a run ends: what it appended or dropped no longer matches.
    /// </summary>
    private async Task SweepAsync(Run run, ConsentState state, IQueryable<ConsentStanding> candidates, Func<ConsentStanding, bool> lapsed,
        CancellationToken cancellationToken)
    {
        var given = candidates.Where(s => s.State == ConsentState.Given || s.State == ConsentState.RenewedGiven);
        while (!run.OverBudget)
        {
            var page = (await given.AsNoTracking().Take(PageSize + run.Passed.Count).ToListAsync(cancellationToken))
                .Where(row => !run.Passed.Contains((row.SubjectId, row.ClientId, row.PurposeId)))
                .ToList();
            if (page.Count == 0)
            {
                return;
            }

            var due = new List<ConsentStanding>(page.Count);
            foreach (var row in page)
            {
                if (lapsed(row))
                {
                    due.Add(row);
                }
                else
                {
                    run.Passed.Add((row.SubjectId, row.ClientId, row.PurposeId));
                }
            }

            foreach (var chunk in due.Chunk(ConsentLedger.MaxEventsPerAppend))
            {
                await AppendAsync(run, state, chunk, cancellationToken);
                if (run.OverBudget)
                {
                    return;
                }
            }
        }
    }

    private async Task AppendAsync(Run run, ConsentState state, ConsentStanding[] rows, CancellationToken cancellationToken)
    {
        try
        {
            run.Written[state] += (await ledger.AppendAsync([.. rows.Select(row => Draft(row, state))], cancellationToken)).Count;
        }
        catch (ConsentLedgerException refused) when (rows.Length > 1 && IsAboutADraft(refused))
        {
            // One refused draft (a partner since removed, say) must not hold back the others: each is tried alone.
            foreach (var row in rows)
            {
                await AppendAsync(run, state, [row], cancellationToken);
            }
        }
        catch (ConsentLedgerException refused) when (IsAboutADraft(refused))
        {
            run.Refused++;
            run.Passed.Add((rows[0].SubjectId, rows[0].ClientId, rows[0].PurposeId));
            LifecycleLog.Refused(logger, refused.Code, refused);
        }
    }

    private ConsentEventDraft Draft(ConsentStanding row, ConsentState state) =>
        new(row.SubjectId, row.ClientId, row.PurposeId, state, null, "fr", ConsentMethods.System, SystemActor, time.GetUtcNow(), ExpectedCurrentEventId: row.EventId);

    /// <summary>A refusal of one draft; a ledger that refuses every append (behind its checkpoint) fails the run instead.</summary>
    private static bool IsAboutADraft(ConsentLedgerException refused) => refused.Code is not ("ledger_behind_checkpoint" or "bad_batch");

    private sealed class Run(TimeProvider time)
    {
        private readonly long _started = time.GetTimestamp();

        public DateTimeOffset Now { get; } = time.GetUtcNow();

        /// <summary>Consents looked at and left as they are in this run (not lapsed after all, or refused).</summary>
        public HashSet<(Guid, string, string)> Passed { get; } = [];

        public Dictionary<ConsentState, int> Written { get; } = new() { [ConsentState.Expired] = 0, [ConsentState.Invalidated] = 0 };

        public int Refused { get; set; }

        public bool OverBudget => time.GetElapsedTime(_started) >= Budget;
    }
}

/// <summary>What one run of the lifecycle job wrote.</summary>
/// <param name="Expired">Expired events appended by this run.</param>
/// <param name="Invalidated">Invalidated events appended by this run.</param>
/// <param name="Refused">Consents whose event the ledger refused (left as they are, tried again next run).</param>
/// <param name="Finished">False when the run stopped at its time budget with consents left.</param>
internal sealed record ConsentLifecycleRun(int Expired, int Invalidated, int Refused, bool Finished);
