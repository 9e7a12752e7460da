using Compliance.Oidc.Grants;
using Compliance.Oidc.Sessions;
using Compliance.Policies;

namespace Compliance.Consent.Decisions;

/// <summary>
/// What a withdrawal stops beyond the ledger (GDPR Art. 7(3)): the partner's codes and token families that carry a
/// scope resting on a withdrawn purpose are revoked, so that introspection reports them inactive at once, and the
/// partner's part of the patient's sessions ends by back-channel logout.
/// </summary>
internal sealed class WithdrawalCascade(IGrantRevocation revocation, ISessionTermination sessions, PolicySet policies)
{
    /// <summary>
    /// Revokes before the withdrawal is appended: if the append then fails, the patient has lost tokens, not kept them.
    /// A grant that stands until the append is still honoured; <see cref="CompleteAsync"/> revokes what it led to.
    /// </summary>
    public Task<int> RevokeAsync(Guid subjectId, string clientId, IEnumerable<string> purposeIds, CancellationToken cancellationToken) =>
        revocation.RevokeSubjectClientScopesAsync(subjectId, clientId, ScopesOf(purposeIds), cancellationToken);

    /// <summary>After the append: revokes again (a code exchanged in between) and logs the partner out of the patient's sessions.</summary>
    public async Task CompleteAsync(Guid subjectId, string clientId, IEnumerable<string> purposeIds, CancellationToken cancellationToken)
    {
        await revocation.RevokeSubjectClientScopesAsync(subjectId, clientId, ScopesOf(purposeIds), cancellationToken);
        await sessions.EndSubjectClientSessionsAsync(subjectId, clientId, cancellationToken);
    }

    private HashSet<string> ScopesOf(IEnumerable<string> purposeIds) =>
        new(purposeIds.SelectMany(id => policies.FindPurpose(id)?.Scopes ?? []), StringComparer.Ordinal);
}
