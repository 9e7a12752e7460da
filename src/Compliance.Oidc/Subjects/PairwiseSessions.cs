using System.Text;
using Compliance.Keys;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Oidc.Subjects;

/// <summary>
/// The <c>sid</c> a sector sees for a session: <c>base64url(HMAC-SHA256(session key, sector ‖ 0x00 ‖ session id))</c>.
/// Pairwise like <c>sub</c>, so that two partners cannot join their subjects on a shared session id; stable within
/// a sector, so that back-channel logout names the session the partner knows.
/// </summary>
internal sealed class PairwiseSessions(IKeyedHash keyedHash)
{
    public const string KeyPurpose = "pairwise-session";

    public async ValueTask<string> SessionForAsync(string sessionId, string sector, CancellationToken cancellationToken)
    {
        var input = Encoding.UTF8.GetBytes($"{sector}\0{sessionId}");
        return Base64UrlEncoder.Encode(await keyedHash.ComputeAsync(KeyPurpose, input, cancellationToken));
    }
}
