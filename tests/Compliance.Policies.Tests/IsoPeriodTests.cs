namespace Compliance.Policies.Tests;

public class IsoPeriodTests
{
    [Theory]
    [InlineData("P1Y", 1, 0, 0, 0)]
    [InlineData("P6M", 0, 6, 0, 0)]
    [InlineData("P2W", 0, 0, 2, 0)]
    [InlineData("P30D", 0, 0, 0, 30)]
    [InlineData("P1Y6M2W3D", 1, 6, 2, 3)]
    [InlineData("P0D", 0, 0, 0, 0)]
    public void Parse_ValidPeriod_ReadsEachComponent(string text, int years, int months, int weeks, int days)
    {
        var period = IsoPeriod.Parse(text);

        period.ShouldBe(new IsoPeriod(years, months, weeks, days));
        period.ToString().ShouldBe(text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1Y")]
    [InlineData("P")]
    [InlineData("p1y")]
    [InlineData("PT12H")]
    [InlineData("P1DT1H")]
    [InlineData("P1.5Y")]
    [InlineData("P1M1Y")]
    [InlineData("P1Y1Y")]
    [InlineData("P1Y2")]
    [InlineData("P-1Y")]
    [InlineData("P99999Y")]
    public void TryParse_InvalidPeriod_FailsWithReason(string text)
    {
        var parsed = IsoPeriod.TryParse(text, out _, out var error);

        parsed.ShouldBeFalse();
        error.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void AddTo_OneMonthFromJanuary31_EndsOnLastDayOfFebruary()
    {
        var start = new DateTimeOffset(2025, 1, 31, 10, 0, 0, TimeSpan.Zero);

        var end = IsoPeriod.Parse("P1M").AddTo(start);

        end.ShouldBe(new DateTimeOffset(2025, 2, 28, 10, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void AddTo_OneMonthFromJanuary31InLeapYear_EndsOnFebruary29()
    {
        var start = new DateTimeOffset(2024, 1, 31, 0, 0, 0, TimeSpan.FromHours(1));

        var end = IsoPeriod.Parse("P1M").AddTo(start);

        end.ShouldBe(new DateTimeOffset(2024, 2, 29, 0, 0, 0, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void AddTo_OneYearFromFebruary29_EndsOnFebruary28()
    {
        var end = IsoPeriod.Parse("P1Y").AddTo(new DateOnly(2024, 2, 29));

        end.ShouldBe(new DateOnly(2025, 2, 28));
    }

    [Fact]
    public void AddTo_YearsAndMonthsFromFebruary29_CountsMonthsOnceWithoutDoubleClamping()
    {
        var end = IsoPeriod.Parse("P1Y1M").AddTo(new DateOnly(2024, 2, 29));

        end.ShouldBe(new DateOnly(2025, 3, 29));
    }

    [Fact]
    public void AddTo_MonthsThenDays_AddsCalendarMonthsBeforeDays()
    {
        var end = IsoPeriod.Parse("P1M1D").AddTo(new DateOnly(2025, 1, 31));

        end.ShouldBe(new DateOnly(2025, 3, 1));
    }

    [Fact]
    public void AddTo_Weeks_AddsSevenDaysEach()
    {
        var end = IsoPeriod.Parse("P2W").AddTo(new DateOnly(2025, 2, 20));

        end.ShouldBe(new DateOnly(2025, 3, 6));
    }

    [Fact]
    public void AddTo_TwentyYearsAcrossLeapDays_KeepsTheCalendarDate()
    {
        var end = IsoPeriod.Parse("P20Y").AddTo(new DateOnly(2025, 3, 1));

        end.ShouldBe(new DateOnly(2045, 3, 1));
    }
}
