using Compliance.Jobs.Notices;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Ui;

namespace Compliance.Oidc.Tests.Accounts;

/// <summary>Every kind of notice has its title and sentence in both languages: a kind added without them would fail the patient's page.</summary>
public sealed class NoticeSentencesTests
{
    private static readonly DateTimeOffset At = new(2030, 3, 1, 14, 5, 0, TimeSpan.Zero);
    private static readonly Guid Request = Guid.Parse("01951f2a-7c00-7000-8000-000000000001");

    public static TheoryData<NoticeKind> Kinds() => [.. Enum.GetValues<NoticeKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryKind_HasItsTitleAndSentence_InFrenchAndEnglish(NoticeKind kind)
    {
        var facts = Sample(kind);
        var key = "notice." + NoticeKinds.Name(kind);

        UiText.Get(key + ".title", UiLanguage.English).ShouldNotBe(UiText.Get(key + ".title", UiLanguage.French));
        var french = NoticesPage.Sentence(facts, new Dictionary<string, string>(), UiLanguage.French);
        var english = NoticesPage.Sentence(facts, new Dictionary<string, string>(), UiLanguage.English);
        french.ShouldNotBe(english);
        foreach (var sentence in new[] { french, english })
        {
            sentence.ShouldNotContain("{");
            sentence.ShouldNotContain("  ", customMessage: "no fact left empty");
        }
    }

    [Fact]
    public void Sentences_NameThePartnerByItsDisplayName_ElseByItsClientId_AndWriteDatesAsPatientsDo()
    {
        var erasure = NoticeFacts.PartnerErasure("teleconsult-a", At);

        NoticesPage.Sentence(erasure, new Dictionary<string, string> { ["teleconsult-a"] = "Téléconsult A" }, UiLanguage.French)
            .ShouldBe("Le 1er mars 2030, Téléconsult A a confirmé avoir effacé les données vous concernant qu'il détenait.");
        NoticesPage.Sentence(erasure, new Dictionary<string, string>(), UiLanguage.English)
            .ShouldBe("On 1 March 2030, teleconsult-a confirmed it erased the data it held about you.");
        NoticesPage.Sentence(NoticeFacts.RequestExtended(Request, At.AddMonths(2)), new Dictionary<string, string>(), UiLanguage.English)
            .ShouldBe($"The deadline to answer your request (reference {Request:D}) is extended to 1 May 2030, as the GDPR allows for a complex request or for many requests (Art. 12(3)).");
    }

    private static NoticeFacts Sample(NoticeKind kind) => kind switch
    {
        NoticeKind.BreakGlassAccess => NoticeFacts.BreakGlassAccess("teleconsult-a", At),
        NoticeKind.RequestReceived => NoticeFacts.RequestReceived(Request, At.AddMonths(1)),
        NoticeKind.RequestExtended => NoticeFacts.RequestExtended(Request, At.AddMonths(3)),
        NoticeKind.RequestCompleted => NoticeFacts.RequestCompleted(Request, At),
        NoticeKind.PartnerErasure => NoticeFacts.PartnerErasure("teleconsult-a", At),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
