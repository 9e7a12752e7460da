using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Compliance.Jobs;
using Compliance.Jobs.Work;
using Compliance.Oidc;
using Compliance.Oidc.Clients;
using Compliance.Policies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Consent.Outbox;

/// <summary>
/// Pushes outbox rows to the partner's webhook (RFC 8935): a POST of the row's Security Event Token as
/// <c>application/secevent+jwt</c>; 200, 202 or 204 is delivered. A failed attempt is retried with exponential backoff
/// until <see cref="OutboxEvent.GiveUpAt"/>, then the row is marked failed, logged and audited for operators. Each
/// attempt is claimed by a conditional update of <c>attempts</c>, so that two runs of one row post once; a node killed
/// mid-attempt leaves the row due again shortly after. The <c>jti</c> never changes: the partner de-duplicates on it.
/// </summary>
internal sealed class WebhookDelivery(
    ComplianceDbContext db,
    IPartnerDirectory partners,
    SecurityEventTokens tokens,
    IHttpClientFactory http,
    IAuditTrail trail,
    IAuditActor actor,
    IOptions<OutboxOptions> options,
    IOptions<OidcOptions> oidc,
    IOptions<JobsOptions> jobs,
    IServiceProvider services,
    TimeProvider time,
    ILogger<WebhookDelivery> logger,
    PolicySet? policies = null) : IDueWork
{
    public const string WorkKind = "consent.webhook";

    private const string Withheld = "withheld";

    private readonly IJobScheduler? _scheduler = services.GetService<IJobScheduler>();

    public string Kind => WorkKind;

    // As the notices' claim (DueClaims): disjoint rows across reconcilers, one statement on each provider.
    public Task<IReadOnlyList<Guid>> ClaimDueAsync(
        DateTimeOffset now, DateTimeOffset enqueuedUntil, int limit, bool ignoreEnqueued, CancellationToken cancellationToken) =>
        DueClaims.ClaimAsync(db, "consent_outbox", "event_id", "delivered_at IS NULL AND failed_at IS NULL", now, enqueuedUntil, limit, ignoreEnqueued, cancellationToken);

    public async Task<DateTimeOffset?> OldestDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        now = now.ToUniversalTime();
        return await db.Set<OutboxEvent>().AsNoTracking()
            .Where(e => e.DeliveredAt == null && e.FailedAt == null && e.DueAt != null && e.DueAt <= now)
            .OrderBy(e => e.DueAt)
            .Select(e => e.DueAt)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task RunAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = await db.Set<OutboxEvent>().AsNoTracking().FirstOrDefaultAsync(e => e.EventId == id, cancellationToken);
        if (row is null || row.DeliveredAt is not null || row.FailedAt is not null || row.DueAt is not { } due || due > now)
        {
            OutboxLog.NothingToDo(logger, id);
            return;
        }

        // Claim the attempt; a node killed during it leaves the row due again once the attempt could no longer be running.
        var attempt = row.Attempts + 1;
        DateTimeOffset? inFlightUntil = now + TimeSpan.FromSeconds(options.Value.TimeoutSeconds * 2);
        var claimed = await db.Set<OutboxEvent>()
            .Where(e => e.EventId == id && e.Attempts == row.Attempts && e.DeliveredAt == null && e.FailedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Attempts, attempt).SetProperty(e => e.DueAt, inFlightUntil), cancellationToken);
        if (claimed == 0)
        {
            OutboxLog.NothingToDo(logger, id);
            return;
        }

        var (error, final) = await AttemptAsync(row, cancellationToken);
        if (error == Withheld)
        {
            // Not a failure for operators to retry: there is nothing the payer may be sent, now or later.
            await db.Set<OutboxEvent>().Where(e => e.EventId == id).ExecuteDeleteAsync(cancellationToken);
            OutboxLog.Withheld(logger, id, row.ClientId);
            return;
        }

        now = time.GetUtcNow();
        if (error is null)
        {
            DateTimeOffset? deliveredAt = now;
            await db.Set<OutboxEvent>().Where(e => e.EventId == id).ExecuteUpdateAsync(
                s => s.SetProperty(e => e.DeliveredAt, deliveredAt).SetProperty(e => e.LastError, (string?)null).SetProperty(e => e.EnqueuedUntil, (DateTimeOffset?)null),
                cancellationToken);
            OutboxLog.Delivered(logger, id, row.EventType, row.ClientId, attempt);
            return;
        }

        if (final || now >= row.GiveUpAt)
        {
            await MarkFailedAsync(row, attempt, error, now, cancellationToken);
            return;
        }

        // The last attempt is at the deadline, so a partner back just before it still gets the event.
        var next = now + options.Value.RetryAfter(attempt);
        DateTimeOffset? nextAt = next < row.GiveUpAt ? next : row.GiveUpAt;
        DateTimeOffset? heldUntil = _scheduler is null ? null : nextAt + TimeSpan.FromSeconds(jobs.Value.EnqueuedLeaseSeconds);
        await db.Set<OutboxEvent>().Where(e => e.EventId == id).ExecuteUpdateAsync(
            s => s.SetProperty(e => e.DueAt, nextAt).SetProperty(e => e.LastError, error).SetProperty(e => e.EnqueuedUntil, heldUntil),
            cancellationToken);
        OutboxLog.AttemptFailed(logger, id, row.ClientId, attempt, error, nextAt.Value);
        try
        {
            _scheduler?.Schedule(WorkKind, id, nextAt.Value);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            OutboxLog.NudgeFailed(logger, id, e);
        }
    }

    private async Task MarkFailedAsync(OutboxEvent row, int attempts, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        DateTimeOffset? failedAt = now;
        await db.Set<OutboxEvent>().Where(e => e.EventId == row.EventId).ExecuteUpdateAsync(
            s => s.SetProperty(e => e.FailedAt, failedAt).SetProperty(e => e.LastError, error).SetProperty(e => e.EnqueuedUntil, (DateTimeOffset?)null),
            cancellationToken);
        trail.Append(AuditEventTypes.ConsentWebhookFailed, actor.Name, null, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["client_id"] = row.ClientId,
            ["event_id"] = row.EventId.ToString("D"),
            ["type"] = row.EventType,
            ["attempts"] = attempts,
            ["last_error"] = error,
        }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        OutboxLog.Failed(logger, row.EventId, row.ClientId, attempts, error);
    }

    /// <summary>One attempt: null when delivered, else a short error code, and whether retrying is pointless.</summary>
    private async Task<(string? Error, bool Final)> AttemptAsync(OutboxEvent row, CancellationToken cancellationToken)
    {
        // A removed partner, or one that stopped its webhook (it pulls now): nothing to retry.
        if (await partners.FindAsync(row.ClientId, cancellationToken) is not { WebhookUrl: { } url } partner)
        {
            return ("no_webhook", true);
        }

        // Written before a policy change made the purpose one a payer must never hear of: never sent.
        if (partner.MustNotLearnOf(row.PurposeId, policies))
        {
            return (Withheld, true);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !WebhookUrls.IsCallable(uri, oidc.Value.AllowLoopbackHttpFetch))
        {
            return ("bad_url", true);
        }

        var token = await tokens.CreateAsync(row, cancellationToken);
        using var client = http.CreateClient(WebhookHttp.ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(token, Encoding.ASCII) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(SecurityEventTokens.MediaType);
        request.Headers.Accept.ParseAdd("application/json");
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return (status is 200 or 202 or 204 ? null : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http_{status}"), false);
        }
        catch (HttpRequestException e) when (Refused(e))
        {
            OutboxLog.AddressRefused(logger, row.ClientId);
            return ("refused_address", false);
        }
        catch (HttpRequestException e)
        {
            return (e.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => "dns",
                HttpRequestError.ConnectionError => "connect_failed",
                HttpRequestError.SecureConnectionError => "tls",
                _ => "http_error",
            }, false);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("timeout", false);
        }
    }

    private static bool Refused(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is PartnerAddressRefusedException)
            {
                return true;
            }
        }

        return false;
    }
}
