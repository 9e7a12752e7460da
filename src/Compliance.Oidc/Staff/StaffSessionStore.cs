using Compliance.Data.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Staff;

/// <summary>
/// Server-side staff sessions. The cookie names a row; the row decides, on every request and every node, whether the
/// session is still open: it ends at sign-out, when the account is removed, after <c>Staff:SessionIdleMinutes</c>
/// without a request and at <c>Staff:SessionAbsoluteHours</c>, whichever comes first.
/// </summary>
internal sealed class StaffSessionStore(ComplianceDbContext db, IOptions<StaffOptions> options, TimeProvider time)
{
    // The idle clock is moved at most this often, so that a busy session does not write on every request.
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    // Ended and expired rows are kept this long (who was signed in when), then deleted by the next sign-in.
    private static readonly TimeSpan KeepEndedFor = TimeSpan.FromDays(30);

    /// <summary>Records the new session, ends the staff session it replaces in this browser, and sets the cookie.</summary>
    public async Task StartAsync(HttpContext context, StaffSession session)
    {
        var previous = StaffSession.From((await context.AuthenticateAsync(StaffSession.Scheme)).Principal);
        var now = time.GetUtcNow();
        db.Add(new StaffSessionRecord
        {
            Id = session.SessionId,
            StaffId = session.StaffId,
            CreatedAt = now,
            LastSeenAt = now,
            AbsoluteExpiresAt = now.AddHours(options.Value.SessionAbsoluteHours),
        });
        await db.SaveChangesAsync(context.RequestAborted);
        if (previous is not null)
        {
            await EndAsync(previous.SessionId, StaffSessionEndReasons.Replaced, context.RequestAborted);
        }

        var forgotten = now - KeepEndedFor;
        await db.Set<StaffSessionRecord>().Where(s => s.AbsoluteExpiresAt < forgotten).ExecuteDeleteAsync(context.RequestAborted);
        await context.SignInAsync(StaffSession.Scheme, session.ToPrincipal());
    }

    /// <summary>
    /// Whether the cookie's session is still open, and its account still there with the role the cookie names. With
    /// <paramref name="activity"/>, moves the idle clock; a request that a page makes by itself (a poll) does not.
    /// </summary>
    public async Task<bool> IsOpenAsync(StaffSession session, bool activity, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var idleSince = now.AddMinutes(-options.Value.SessionIdleMinutes);
        var row = await db.Set<StaffSessionRecord>().AsNoTracking()
            .Where(s => s.Id == session.SessionId && s.StaffId == session.StaffId && s.EndedAt == null)
            .Select(s => new
            {
                s.LastSeenAt,
                s.AbsoluteExpiresAt,
                AccountHolds = db.Set<StaffAccount>().Any(a => a.Id == s.StaffId && a.Role == session.Role),
            })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null || !row.AccountHolds || row.AbsoluteExpiresAt <= now || row.LastSeenAt <= idleSince)
        {
            return false;
        }

        if (activity && now - row.LastSeenAt >= TouchEvery)
        {
            await db.Set<StaffSessionRecord>().Where(s => s.Id == session.SessionId && s.EndedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.LastSeenAt, now), cancellationToken);
        }

        return true;
    }

    /// <summary>Ends one session; false when it had already ended.</summary>
    public async Task<bool> EndAsync(string sessionId, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await db.Set<StaffSessionRecord>().Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.EndedAt, now).SetProperty(r => r.EndReason, reason), cancellationToken) > 0;
    }

    /// <summary>Ends every open session of a staff account (its removal). Returns how many were open.</summary>
    public Task<int> EndAllAsync(Guid staffId, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Set<StaffSessionRecord>().Where(s => s.StaffId == staffId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.EndedAt, now).SetProperty(r => r.EndReason, reason), cancellationToken);
    }
}
