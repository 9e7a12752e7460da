namespace Compliance.Jobs.Notices;

/// <summary>A delivered notice, as the patient's list shows it.</summary>
/// <param name="Id">The notice's id: the one to mark it read with.</param>
/// <param name="Facts">What it says.</param>
/// <param name="DeliveredAt">When it became visible.</param>
/// <param name="ReadAt">When the patient marked it read, or <c>null</c> while unread.</param>
public sealed record Notice(Guid Id, NoticeFacts Facts, DateTimeOffset DeliveredAt, DateTimeOffset? ReadAt)
{
    public bool IsRead => ReadAt is not null;
}
