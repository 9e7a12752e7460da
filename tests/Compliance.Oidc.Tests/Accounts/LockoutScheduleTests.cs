using Compliance.Oidc.Accounts;

namespace Compliance.Oidc.Tests.Accounts;

public sealed class LockoutScheduleTests
{
    [Fact]
    public void Defaults_GrowFourfold_UpToADay()
    {
        var schedule = LockoutSchedule.From(new OidcOptions());
        Enumerable.Range(0, 10).Select(n => schedule.Duration(n).TotalMinutes).ShouldBe([15, 60, 240, 960, 1440, 1440, 1440, 1440, 1440, 1440]);
    }

    [Fact]
    public void NoGrowth_KeepsEveryLockTheSame()
    {
        var schedule = new LockoutSchedule(BaseMinutes: 15, Growth: 1, MaxMinutes: 1440);
        Enumerable.Range(0, 12).Select(n => schedule.Duration(n).TotalMinutes).Distinct().ShouldBe([15]);
    }

    [Fact]
    public void BeyondTheRanksTheStoreKnows_EveryLockIsAsLongAsTheLastRank()
    {
        var schedule = new LockoutSchedule(BaseMinutes: 1, Growth: 2, MaxMinutes: 10_080);
        Enumerable.Range(0, 11).Select(n => schedule.Duration(n).TotalMinutes).ShouldBe([1, 2, 4, 8, 16, 32, 64, 128, 128, 128, 128]);
        schedule.Duration(LockoutSchedule.Ranks - 1).ShouldBe(schedule.Duration(int.MaxValue));
    }
}

public sealed class SessionMethodsTests
{
    [Theory]
    [InlineData("pwd", "otp", "pwd otp mfa")]
    [InlineData("pwd otp mfa", "otp", "pwd otp mfa")]
    [InlineData("hwk mfa", "hwk", "hwk mfa")]
    [InlineData("pwd hwk mfa", "hwk", "pwd hwk mfa")]
    [InlineData("swk mfa", "otp", "swk otp mfa")]
    public void AStepUp_AddsItsMethodOnce_AndNeverOneTheSessionDidNotUse(string before, string method, string after) =>
        string.Join(' ', Session.SteppedUp(before.Split(' '), method)).ShouldBe(after);
}
