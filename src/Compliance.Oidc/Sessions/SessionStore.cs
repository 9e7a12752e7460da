using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Sessions;

/// <summary>
/// Ends a subject's sign-in sessions, on every node at once, and tells the partners that received an ID token in
/// them (OIDC Back-Channel Logout). The rights module calls this on erasure and account deletion.
/// </summary>
public interface ISessionTermination
{
    /// <summary>Ends every open session of the subject. Returns the number ended.</summary>
    Task<int> EndSubjectSessionsAsync(Guid subjectId, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Ends one partner's part of the subject's open sessions (a consent withdrawn from it): the partner is told by
    /// back-channel logout and is no longer a participant, while the patient stays signed in here and with the other
    /// partners. Returns the number of sessions the partner was logged out of.
    /// </summary>
    Task<int> EndSubjectClientSessionsAsync(Guid subjectId, string clientId, CancellationToken cancellationToken);
}

/// <summary>
/// Server-side sessions. The cookie carries the session id and the sign-in facts; the row decides whether the
/// session is still open: it ends at sign-out, on account deletion or erasure, after the idle lifetime, and at the
/// absolute lifetime, whichever comes first, and every node reads the same row.
/// </summary>
internal sealed class SessionStore(
    ComplianceDbContext db,
    IOptions<OidcOptions> options,
    LogoutSignal signal,
    TimeProvider time,
    ILogger<SessionStore> logger) : ISessionTermination
{
    // The idle clock is moved at most this often, so that a busy session does not write on every request.
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    /// <summary>Records the new session, ends the one it replaces in this browser, and sets the cookie.</summary>
    public async Task StartAsync(HttpContext context, Session session)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(session);
        var previous = Session.From((await context.AuthenticateAsync(Session.Scheme)).Principal);
        var now = time.GetUtcNow();
        db.Add(new BrowserSession
        {
            Id = session.SessionId,
            SubjectId = session.SubjectId,
            AuthTime = session.AuthTime,
            Acr = session.Acr,
            Amr = string.Join(' ', session.Amr),
            CreatedAt = now,
            LastSeenAt = now,
            AbsoluteExpiresAt = now.AddHours(options.Value.SessionAbsoluteHours),
        });
        await db.SaveChangesAsync(context.RequestAborted);
        if (previous is not null)
        {
            await EndAsync(previous.SessionId, SessionEndReasons.Replaced, context.RequestAborted);
        }

        await context.SignInAsync(Session.Scheme, session.ToPrincipal());
    }

    /// <summary>
    /// Raises the open session to <paramref name="acr"/> after a step-up: same id (partners keep their <c>sid</c>), a new
    /// auth_time, the methods of the step. False when the session ended meanwhile; the cookie is then left as it was.
    /// </summary>
    public async Task<bool> StepUpAsync(HttpContext context, Session session, IReadOnlyList<string> amr, string acr)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(session);
        var now = time.GetUtcNow();
        var methods = string.Join(' ', amr);
        var raised = await db.Set<BrowserSession>()
            .Where(s => s.Id == session.SessionId && s.SubjectId == session.SubjectId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.AuthTime, now).SetProperty(b => b.Acr, acr).SetProperty(b => b.Amr, methods).SetProperty(b => b.LastSeenAt, now), context.RequestAborted);
        if (raised == 0)
        {
            return false;
        }

        await context.SignInAsync(Session.Scheme, (session with { AuthTime = now, Amr = amr, Acr = acr }).ToPrincipal());
        return true;
    }

    /// <summary>Whether the cookie's session is still open, and its account still there. Moves the idle clock.</summary>
    public async Task<bool> IsOpenAsync(Session session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var now = time.GetUtcNow();
        var idleSince = now.AddMinutes(-options.Value.SessionIdleMinutes);
        var row = await db.Set<BrowserSession>().AsNoTracking()
            .Where(s => s.Id == session.SessionId && s.SubjectId == session.SubjectId && s.EndedAt == null)
            .Select(s => new { s.LastSeenAt, s.AbsoluteExpiresAt, AccountExists = db.Set<Account>().Any(a => a.Id == s.SubjectId) })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null || !row.AccountExists || row.AbsoluteExpiresAt <= now || row.LastSeenAt <= idleSince)
        {
            return false;
        }

        if (now - row.LastSeenAt >= TouchEvery)
        {
            await db.Set<BrowserSession>().Where(s => s.Id == session.SessionId && s.EndedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastSeenAt, now), cancellationToken);
        }

        return true;
    }

    /// <summary>Ends the session and queues a logout token for each partner that received an ID token in it.</summary>
    public async Task<bool> EndAsync(string sessionId, string reason, CancellationToken cancellationToken)
    {
        var ended = await EndWhereAsync(db.Set<BrowserSession>().Where(s => s.Id == sessionId), reason, cancellationToken);
        return ended > 0;
    }

    public Task<int> EndSubjectSessionsAsync(Guid subjectId, string reason, CancellationToken cancellationToken) =>
        EndWhereAsync(db.Set<BrowserSession>().Where(s => s.SubjectId == subjectId), reason, cancellationToken);

    public async Task<int> EndSubjectClientSessionsAsync(Guid subjectId, string clientId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessions = await (
                from sessionClient in db.Set<SessionClient>()
                join session in db.Set<BrowserSession>() on sessionClient.SessionId equals session.Id
                where session.SubjectId == subjectId && session.EndedAt == null && sessionClient.ClientId == clientId
                select session.Id)
            .ToListAsync(cancellationToken);
        if (sessions.Count == 0)
        {
            return 0;
        }

        var tellable = await db.Set<Client>().AnyAsync(c => c.ClientId == clientId && c.BackchannelLogoutUri != null, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ended = 0;
        foreach (var sessionId in sessions)
        {
            // Conditional, as in EndWhereAsync: the node whose delete removes the participant queues the one logout token.
            if (await db.Set<SessionClient>().Where(c => c.SessionId == sessionId && c.ClientId == clientId).ExecuteDeleteAsync(cancellationToken) == 0)
            {
                continue;
            }

            ended++;
            if (tellable)
            {
                db.Add(new LogoutDelivery
                {
                    Id = Guid.CreateVersion7(now), SessionId = sessionId, ClientId = clientId, SubjectId = subjectId, CreatedAt = now, NextAttemptAt = now,
                });
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        signal.Notify();
        return ended;
    }

    /// <summary>How many other sessions of the subject are open (not ended, not past their idle or absolute lifetime).</summary>
    public Task<int> CountOtherOpenAsync(Guid subjectId, string keepSessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var idleSince = now.AddMinutes(-options.Value.SessionIdleMinutes);
        return db.Set<BrowserSession>().CountAsync(
            s => s.SubjectId == subjectId && s.Id != keepSessionId && s.EndedAt == null && s.AbsoluteExpiresAt > now && s.LastSeenAt > idleSince,
            cancellationToken);
    }

    /// <summary>Ends every open session of the subject but <paramref name="keepSessionId"/> (after a password change).</summary>
    public Task<int> EndOtherSessionsAsync(Guid subjectId, string keepSessionId, string reason, CancellationToken cancellationToken) =>
        EndWhereAsync(db.Set<BrowserSession>().Where(s => s.SubjectId == subjectId && s.Id != keepSessionId), reason, cancellationToken);

    /// <summary>Ends the sessions past their idle or absolute lifetime, a batch at a time, so that their partners are told.</summary>
    public Task<int> EndExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var idleSince = now.AddMinutes(-options.Value.SessionIdleMinutes);
        var expired = db.Set<BrowserSession>()
            .Where(s => s.EndedAt == null && (s.AbsoluteExpiresAt <= now || s.LastSeenAt <= idleSince))
            .OrderBy(s => s.LastSeenAt)
            .Take(100);
        return EndWhereAsync(expired, SessionEndReasons.Expired, cancellationToken);
    }

    /// <summary>Records that the client receives an ID token in this session, so that it is told when it ends.</summary>
    public async Task RecordClientAsync(string sessionId, string clientId, CancellationToken cancellationToken)
    {
        // ON CONFLICT DO NOTHING: the pair is recorded once, whichever node or request comes first.
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO oidc_session_clients (session_id, client_id) VALUES ({sessionId}, {clientId}) ON CONFLICT DO NOTHING",
            cancellationToken);
    }

    private async Task<int> EndWhereAsync(IQueryable<BrowserSession> sessions, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();

        // Read first, outside the transaction: the periodic sweep usually finds nothing, and then takes no write lock.
        var ids = await sessions.Where(s => s.EndedAt == null).Select(s => new { s.Id, s.SubjectId }).ToListAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return 0;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var ended = 0;
        foreach (var session in ids)
        {
            // Conditional: when two nodes end the same session, only one queues its logout tokens.
            if (await db.Set<BrowserSession>().Where(s => s.Id == session.Id && s.EndedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.EndedAt, now).SetProperty(b => b.EndReason, reason), cancellationToken) == 0)
            {
                continue;
            }

            ended++;
            var partners = await (
                    from sessionClient in db.Set<SessionClient>()
                    join client in db.Set<Client>() on sessionClient.ClientId equals client.ClientId
                    where sessionClient.SessionId == session.Id && client.BackchannelLogoutUri != null
                    select client.ClientId)
                .ToListAsync(cancellationToken);
            foreach (var clientId in partners)
            {
                db.Add(new LogoutDelivery
                {
                    Id = Guid.CreateVersion7(now),
                    SessionId = session.Id,
                    ClientId = clientId,
                    SubjectId = session.SubjectId,
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        OidcLog.SessionsEnded(logger, ended, reason);
        signal.Notify();
        return ended;
    }
}
