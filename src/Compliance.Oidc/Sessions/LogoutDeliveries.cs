using Compliance.Data.Model;
using Compliance.Keys;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Subjects;
using Compliance.Oidc.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Sessions;

/// <summary>Wakes this node's delivery loop when a session ends here, so that partners learn it at once.</summary>
internal sealed class LogoutSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}

/// <summary>
/// OIDC Back-Channel Logout 1.0: delivers the queued logout tokens, each signed, with the partner's pairwise
/// <c>sub</c> and <c>sid</c>, to the URI registered with the client, by POST, https only and never following a
/// redirect. A failed delivery is retried with a growing delay and given up after <see cref="GiveUpAfter"/>.
/// Each row is claimed by one node at a time (a conditional update), so several nodes can run this.
/// </summary>
internal sealed class LogoutDeliveries(
    ComplianceDbContext db,
    ClientRegistry clients,
    IPairwiseSubjects subjects,
    PairwiseSessions sessions,
    ISigningKeys keys,
    IHttpClientFactory http,
    IOptions<OidcOptions> options,
    TimeProvider time,
    ILogger<LogoutDeliveries> logger)
{
    public const string EventType = "http://schemas.openid.net/event/backchannel-logout";
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Attempts every delivery that is due now. Returns the number delivered.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = await db.Set<LogoutDelivery>().AsNoTracking()
            .Where(d => d.NextAttemptAt <= now && d.DeliveredAt == null && d.FailedAt == null)
            .OrderBy(d => d.NextAttemptAt)
            .Take(50)
            .ToListAsync(cancellationToken);
        var delivered = 0;
        foreach (var delivery in due)
        {
            // Claim: only the node that moves next_attempt_at forward delivers; a crash leaves it due again after the lease.
            var claimed = await db.Set<LogoutDelivery>()
                .Where(d => d.Id == delivery.Id && d.NextAttemptAt == delivery.NextAttemptAt && d.DeliveredAt == null && d.FailedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, now.Add(Lease)).SetProperty(d => d.Attempts, d => d.Attempts + 1), cancellationToken);
            if (claimed == 1 && await DeliverAsync(delivery, delivery.Attempts + 1, cancellationToken))
            {
                delivered++;
            }
        }

        return delivered;
    }

    private async Task<bool> DeliverAsync(LogoutDelivery delivery, int attempt, CancellationToken cancellationToken)
    {
        var client = await clients.FindAsync(delivery.ClientId, cancellationToken);
        string? error;
        if (client?.BackchannelLogoutUri is not { } uri || !ClientAdministration.IsFetchable(uri, options.Value.AllowLoopbackHttpFetch))
        {
            error = "no usable backchannel_logout_uri";
        }
        else
        {
            error = await PostAsync(client, uri, delivery, cancellationToken);
        }

        var now = time.GetUtcNow();
        if (error is null)
        {
            await db.Set<LogoutDelivery>().Where(d => d.Id == delivery.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.DeliveredAt, now).SetProperty(d => d.LastError, (string?)null), cancellationToken);
            OidcLog.LogoutDelivered(logger, delivery.ClientId);
            return true;
        }

        var giveUp = client?.BackchannelLogoutUri is null || now - delivery.CreatedAt >= GiveUpAfter;
        var retryIn = TimeSpan.FromSeconds(Math.Min(3600, 5 * Math.Pow(2, Math.Min(attempt - 1, 12))));
        await db.Set<LogoutDelivery>().Where(d => d.Id == delivery.Id)
            .ExecuteUpdateAsync(
                s => s.SetProperty(d => d.NextAttemptAt, now.Add(retryIn))
                    .SetProperty(d => d.LastError, error)
                    .SetProperty(d => d.FailedAt, giveUp ? now : null),
                cancellationToken);
        OidcLog.LogoutDeliveryFailed(logger, delivery.ClientId, attempt, error, giveUp);
        return false;
    }

    private async Task<string?> PostAsync(Client client, string uri, LogoutDelivery delivery, CancellationToken cancellationToken)
    {
        try
        {
            var token = await CreateLogoutTokenAsync(client, delivery, cancellationToken);
            using var httpClient = http.CreateClient("compliance-fetch");
            using var content = new FormUrlEncodedContent([new KeyValuePair<string, string>("logout_token", token)]);
            using var response = await httpClient.PostAsync(uri, content, cancellationToken);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return e.GetType().Name;
        }
    }

    /// <summary>The logout token (OIDC Back-Channel Logout 1.0 §2.4): no nonce, the logout event, pairwise sub and sid.</summary>
    internal async Task<string> CreateLogoutTokenAsync(Client client, LogoutDelivery delivery, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["sub"] = await subjects.SubjectForAsync(delivery.SubjectId, client.Sector, cancellationToken),
            ["sid"] = await sessions.SessionForAsync(delivery.SessionId, client.Sector, cancellationToken),
            ["jti"] = TokenIssuer.NewOpaque(),
            ["events"] = new Dictionary<string, object> { [EventType] = new Dictionary<string, object>() },
        };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.IssuerUri,
            Audience = client.ClientId,
            IssuedAt = now.UtcDateTime,
            Expires = now.AddMinutes(2).UtcDateTime,
            Claims = claims,
            TokenType = "logout+jwt",
            SigningCredentials = await keys.GetSigningCredentialsAsync(client.IdTokenSignedResponseAlg, cancellationToken),
        });
    }
}

/// <summary>
/// Runs on every node: ends the sessions whose idle or absolute lifetime has passed (so that their partners are told
/// too), and delivers the logout tokens that are due, at once when a session ends on this node, else every few seconds.
/// </summary>
internal sealed class LogoutDeliveryWorker(IServiceScopeFactory scopes, LogoutSignal signal, ILogger<LogoutDeliveries> logger) : BackgroundService
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<SessionStore>().EndExpiredAsync(stoppingToken);
                await scope.ServiceProvider.GetRequiredService<LogoutDeliveries>().DeliverDueAsync(stoppingToken);
                await signal.WaitAsync(PollEvery, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException or KeyCustodyException)
            {
                // The store or key custody is unavailable for now: the rows stay due, and the next round retries.
                OidcLog.LogoutLoopFailed(logger, e);
                await Task.Delay(PollEvery, stoppingToken);
            }
        }
    }
}
