namespace Compliance.Jobs.Notices;

/// <summary>What a notice tells the patient. Stored by its stable name (<see cref="NoticeKinds.Name"/>), never by number.</summary>
public enum NoticeKind
{
    /// <summary>A designated health professional read the patient's civil identity in an emergency (break-glass), disclosed afterwards.</summary>
    BreakGlassAccess,

    /// <summary>A data-subject request of the patient was received; the facts carry its reference and the answer's deadline.</summary>
    RequestReceived,

    /// <summary>The deadline of a request was extended (GDPR Art. 12(3)); the facts carry its reference and the new deadline.</summary>
    RequestExtended,

    /// <summary>A request was completed; the facts carry its reference and when.</summary>
    RequestCompleted,

    /// <summary>A partner confirmed it erased what it held about the patient (GDPR Art. 17 and 19); the facts carry its client id and when.</summary>
    PartnerErasure,
}

/// <summary>The stable names of <see cref="NoticeKind"/>, as stored in <c>notices.kind</c> and in audit details.</summary>
public static class NoticeKinds
{
    /// <summary>The stable name of a kind, for example <c>break_glass_access</c>. Never rename one.</summary>
    public static string Name(NoticeKind kind) => kind switch
    {
        NoticeKind.BreakGlassAccess => "break_glass_access",
        NoticeKind.RequestReceived => "request_received",
        NoticeKind.RequestExtended => "request_extended",
        NoticeKind.RequestCompleted => "request_completed",
        NoticeKind.PartnerErasure => "partner_erasure",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a notice kind."),
    };

    /// <summary>The kind of a stored name; a name this build does not know is refused rather than guessed.</summary>
    public static NoticeKind Parse(string name)
    {
        foreach (var kind in Enum.GetValues<NoticeKind>())
        {
            if (Name(kind) == name)
            {
                return kind;
            }
        }

        throw new FormatException($"'{name}' is not a notice kind of this build.");
    }
}
