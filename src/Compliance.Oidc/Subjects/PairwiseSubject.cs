namespace Compliance.Oidc.Subjects;

/// <summary>Maps a pairwise <c>sub</c>, as one sector knows it, back to the internal subject, for the rights jobs.</summary>
public sealed class PairwiseSubject
{
    public required string Sector { get; set; }

    public required string Subject { get; set; }

    public Guid SubjectId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
