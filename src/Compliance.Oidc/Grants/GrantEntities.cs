namespace Compliance.Oidc.Grants;

/// <summary>
/// The patient's remembered decision to let a client receive some scopes. Every token issued for the subject and
/// client rests on it; withdrawing it revokes them.
/// </summary>
public sealed class ConsentGrant
{
    public Guid Id { get; set; }

    public Guid SubjectId { get; set; }

    public required string ClientId { get; set; }

    /// <summary>Space-separated scopes the patient allowed.</summary>
    public required string Scopes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A single-use authorization code, stored only as a hash.</summary>
public sealed class AuthorizationCode
{
    /// <summary>Lowercase hex SHA-256 of the code.</summary>
    public required string CodeHash { get; set; }

    /// <summary>Groups everything issued from this code, so that a replay revokes it all.</summary>
    public Guid IssuanceId { get; set; }

    public required string ClientId { get; set; }

    public Guid SubjectId { get; set; }

    public required string RedirectUri { get; set; }

    public required string Scope { get; set; }

    public string? Nonce { get; set; }

    public required string CodeChallenge { get; set; }

    public required string SessionId { get; set; }

    public DateTimeOffset AuthTime { get; set; }

    public required string Acr { get; set; }

    /// <summary>Space-separated authentication methods.</summary>
    public required string Amr { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>An opaque refresh token, stored only as a hash. Rotated on every use; reuse revokes its family.</summary>
public sealed class RefreshToken
{
    public required string TokenHash { get; set; }

    /// <summary>The family: the code's issuance id, shared by every rotation.</summary>
    public Guid FamilyId { get; set; }

    public required string ClientId { get; set; }

    public Guid SubjectId { get; set; }

    public required string Scope { get; set; }

    public required string SessionId { get; set; }

    public DateTimeOffset AuthTime { get; set; }

    public required string Acr { get; set; }

    public required string Amr { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The sliding end: moved forward by each rotation, never past <see cref="AbsoluteExpiresAt"/>.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset AbsoluteExpiresAt { get; set; }

    /// <summary>Set when it was exchanged for a new one; presenting it again is a reuse.</summary>
    public DateTimeOffset? ConsumedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// The record of an issued JWT access token, so that introspection and revocation can answer for it, and a
/// subject's or a family's tokens can be revoked at once.
/// </summary>
public sealed class IssuedToken
{
    public required string TokenId { get; set; }

    public Guid? FamilyId { get; set; }

    public required string ClientId { get; set; }

    public Guid? SubjectId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A pushed authorization request (RFC 9126), single use, short-lived.</summary>
public sealed class PushedRequest
{
    /// <summary>The random part of the <c>request_uri</c>.</summary>
    public required string Handle { get; set; }

    public required string ClientId { get; set; }

    /// <summary>The validated authorization parameters, as a JSON object.</summary>
    public required string Parameters { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? ConsumedAt { get; set; }
}

/// <summary>A <c>private_key_jwt</c> assertion already used, kept until it expires so that it cannot be replayed.</summary>
public sealed class UsedAssertion
{
    /// <summary>Lowercase hex SHA-256 of the client id and the assertion's <c>jti</c>.</summary>
    public required string AssertionHash { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>
/// Everything issued from one authorization code: its refresh-token rotations and access tokens. Created with the
/// code. Every issuance into a family first updates this row under the condition that it is not revoked, and every
/// revocation updates this row first: so a token is never inserted into a revoked family, and a revocation sees
/// every token issued before it (the row lock orders them on PostgreSQL; SQLite has one writer).
/// </summary>
public sealed class TokenFamily
{
    public Guid FamilyId { get; set; }

    public required string ClientId { get; set; }

    public Guid SubjectId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
