namespace Compliance.Policies.Tests;

public class RetentionRuleTests
{
    private static readonly RetentionRule MedicalRecord =
        PolicyLoader.Load(PolicyDirectory.Shipped).FindRetentionRule("teleconsultation-record")!;

    private static DateTimeOffset Day(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void EndsAt_AdultPatient_TwentyYearsAfterLastConsultation()
    {
        var dates = new Dictionary<RetentionTrigger, DateTimeOffset>
        {
            [RetentionTrigger.LastConsultation] = Day(2025, 3, 10),
            [RetentionTrigger.Birth] = Day(1980, 6, 1),
        };

        MedicalRecord.EndsAt(dates).ShouldBe(Day(2045, 3, 10));
    }

    [Fact]
    public void EndsAt_ChildPatient_ExtendedToTwentyEighthBirthday()
    {
        var dates = new Dictionary<RetentionTrigger, DateTimeOffset>
        {
            [RetentionTrigger.LastConsultation] = Day(2012, 5, 2),
            [RetentionTrigger.Birth] = Day(2010, 2, 28),
        };

        MedicalRecord.EndsAt(dates).ShouldBe(Day(2038, 2, 28));
    }

    [Fact]
    public void EndsAt_DeathWithinTenYearsOfLastConsultation_TenYearsAfterDeath()
    {
        var dates = new Dictionary<RetentionTrigger, DateTimeOffset>
        {
            [RetentionTrigger.LastConsultation] = Day(2025, 3, 10),
            [RetentionTrigger.Birth] = Day(1950, 1, 1),
            [RetentionTrigger.Death] = Day(2027, 8, 31),
        };

        MedicalRecord.EndsAt(dates).ShouldBe(Day(2037, 8, 31));
    }

    [Fact]
    public void EndsAt_TriggerNotYetHappened_IsNull()
    {
        var dates = new Dictionary<RetentionTrigger, DateTimeOffset> { [RetentionTrigger.Birth] = Day(1990, 1, 1) };

        MedicalRecord.EndsAt(dates).ShouldBeNull();
    }
}
