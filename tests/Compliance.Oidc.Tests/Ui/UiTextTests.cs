using Compliance.Oidc.Ui;
using Compliance.Policies;

namespace Compliance.Oidc.Tests.Ui;

public sealed class UiTextTests
{
    // The privacy notice words every retention trigger and transfer safeguard of the policy files: a value added to
    // the vocabulary without its sentence would make /privacy fail for every patient.
    public static TheoryData<string> NoticeKeys()
    {
        var keys = new TheoryData<string>();
        foreach (var trigger in Enum.GetValues<RetentionTrigger>())
        {
            keys.Add("retention.trigger." + trigger.ToId());
        }

        foreach (var safeguard in Enum.GetValues<TransferSafeguard>())
        {
            keys.Add("transfer." + safeguard.ToId());
        }

        return keys;
    }

    [Theory]
    [MemberData(nameof(NoticeKeys))]
    public void EveryPolicyVocabularyWord_HasItsSentenceInBothLanguages(string key)
    {
        UiText.Has(key).ShouldBeTrue(key);
        UiText.Get(key, UiLanguage.French).ShouldNotBeNullOrWhiteSpace();
        UiText.Get(key, UiLanguage.English).ShouldNotBe(UiText.Get(key, UiLanguage.French));
    }
}
